#!/usr/bin/env node
// After `tsc -p tsconfig.build.json`: copies the website's static assets (CSS, JS, icons) next to
// the compiled code, where src/web/app.ts looks for them (./assets/ beside app.js).
import { cpSync } from 'node:fs';
cpSync('src/web/assets', 'dist/web/assets', { recursive: true });
