#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, and the
// share of samples under a few named frames (inclusive time).
//   node scripts/cpuprofile-top.mjs FILE.cpuprofile [--top N] [--inclusive name1,name2,...]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (!file) {
  console.error('usage: cpuprofile-top.mjs FILE.cpuprofile [--top N] [--inclusive a,b,c]');
  process.exit(64);
}
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : args[i + 1];
};
const top = Number(opt('--top', '30'));
const inclusive = String(opt('--inclusive', '')).split(',').filter(Boolean);

const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const counts = new Map();
for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
const total = prof.samples.length;
const label = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
for (const [id, c] of counts) {
  const k = label(byId.get(id));
  self.set(k, (self.get(k) ?? 0) + c);
}
const pct = (c) => ((100 * c) / total).toFixed(1).padStart(5) + ' %';
console.log(`${total} samples`);
console.log('self time:');
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)}  ${k}`);
if (inclusive.length > 0) {
  console.log('inclusive (samples with the frame on the stack):');
  for (const name of inclusive) {
    let c = 0;
    for (const [id, n] of counts) {
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        if (byId.get(cur).callFrame.functionName === name) {
          c += n;
          break;
        }
      }
    }
    console.log(`${pct(c)}  ${name}`);
  }
}
