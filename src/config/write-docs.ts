/**
 * Rewrites the generated table of docs/configuration.md from the schema.
 * Usage: node --import tsx src/config/write-docs.ts [path]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spliceConfigDocs } from './describe.js';

const path = process.argv[2] ?? fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
const before = readFileSync(path, 'utf8');
const after = spliceConfigDocs(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? `${path} is up to date` : `${path} updated`);
