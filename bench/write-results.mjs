#!/usr/bin/env node
// Writes the tables of one `npm run bench` into docs/benchmarks.md, between the markers
// <!-- BEGIN TRACKER BENCH --> and <!-- END TRACKER BENCH -->, with the command and machine.
// Usage: write-results.mjs DOC COMMAND RUN_DIR_PRIVATE RUN_DIR_LISTED
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { execSync } from 'node:child_process';

const [doc, command, privateDir, listedDir] = process.argv.slice(2);
const BEGIN = '<!-- BEGIN TRACKER BENCH -->';
const END = '<!-- END TRACKER BENCH -->';
const table = (dir) => (dir && existsSync(`${dir}/table.md`) ? readFileSync(`${dir}/table.md`, 'utf8').trim() : '(not run)');
let ot = 'unknown';
try {
  ot = execSync("dpkg-query -W -f='${Version}' opentracker", { encoding: 'utf8' });
} catch {
  // not a Debian system: the version stays "unknown"
}
const block = `${BEGIN}
Produced by \`npm run bench\` (\`${command.trim()}\`) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC:
${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node.js ${process.version}, opentracker ${ot} (Debian).
Server pinned to CPU 0, load generator to CPU 1; every figure below comes from the same run as
the opentracker figures beside it. Essaim started as \`${(process.env.ESSAIM_BENCH_STARTED_AS ?? 'bin/essaim.js start').replace(/\s+/g, ' ').trim()}\`
(plus the benchmark's ports), each phase on a fresh copy of the seeded data directory (\`bench/fresh-data.sh\`).

### Run 1: HTTP announce and memory, Essaim in private mode

${table(privateDir)}

### Run 2: UDP announce and scrape, Essaim in listed mode

${table(listedDir)}
${END}`;
let text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
if (!text.includes(BEGIN)) text += `\n${BEGIN}\n${END}\n`;
text = text.slice(0, text.indexOf(BEGIN)) + block + text.slice(text.indexOf(END) + END.length);
writeFileSync(doc, text);
