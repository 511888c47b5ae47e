#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's own test runner (through tsx).
// Usage: node scripts/run-tests.mjs [--pg] [filter...]
//   --pg      also run the PostgreSQL passes (ESSAIM_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
//   --redis   also run the Redis passes (ESSAIM_TEST_REDIS_URL, default redis://127.0.0.1:6379/0)
//   filter    only files whose path contains one of the given strings
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const env = { ...process.env };
const filters = [];
for (const a of args) {
  if (a === '--pg') env.ESSAIM_TEST_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  else if (a === '--redis') env.ESSAIM_TEST_REDIS_URL ??= 'redis://127.0.0.1:6379/0';
  else filters.push(a);
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(process.cwd(), p));
  }
  return out;
}
const files = [...walk('src', []), ...walk('test', [])]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
  env,
});
process.exit(r.status ?? 1);
