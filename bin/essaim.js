#!/usr/bin/env node
// Entry point of the `essaim` command. In a source checkout (src/ present) the TypeScript sources
// run through tsx; an installed build (no src/) runs the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'cli', 'main.ts');
if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(pathToFileURL(src).href);
  await main(process.argv.slice(2));
} else {
  const { main } = await import(pathToFileURL(join(root, 'dist', 'cli', 'main.js')).href);
  await main(process.argv.slice(2));
}
