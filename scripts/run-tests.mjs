#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's own test runner (through tsx).
// Usage: node scripts/run-tests.mjs [--pg] [filter...]
//   --pg      also run the PostgreSQL passes (ESSAIM_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
//   --redis   also run the Redis passes (ESSAIM_TEST_REDIS_URL, default redis://127.0.0.1:6379/0)
//   filter    only files whose path contains one of the given strings
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';

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
// The TAP stream goes to our stdout as it comes, and is kept: when something failed, the failures
// themselves (not the tests cancelled because a parent failed, nor suites whose children failed)
// are printed again at the very end, where a log that keeps only its tail still shows them.
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env,
});
const chunks = [];
child.stdout.on('data', (c) => {
  chunks.push(c);
  process.stdout.write(c);
});
child.on('close', (code, signal) => {
  const status = code ?? (signal ? 1 : 0);
  if (status !== 0) {
    const digest = failureDigest(Buffer.concat(chunks).toString('utf8'));
    if (digest.length > 0) process.stdout.write(`\n# failures, repeated from above:\n${digest.join('\n')}\n`);
  }
  process.exit(status);
});

/** The "not ok" entries of a TAP stream with their YAML blocks, but for cascades. */
function failureDigest(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const block = [lines[i]];
    let j = i + 1;
    if (lines[j]?.trim() === '---') {
      for (; j < lines.length; j++) {
        block.push(lines[j]);
        if (j > i + 1 && lines[j].trim() === '...') break;
      }
    }
    const text = block.join('\n');
    if (/failureType: '(cancelledByParent|subtestsFailed)'/.test(text)) continue;
    out.push(...block.slice(0, 60).map((l) => `#| ${l}`));
  }
  return out;
}
