/**
 * Memory and speed of the in-memory peer store, without the network.
 *
 *   node --expose-gc --import tsx scripts/peer-store-memory.ts [--peers 1000000] [--torrents 100000]
 *        [--layout block|stride] [--order scattered|sequential] [--max-per-user 10] [--passes 2] [--idle 90]
 *
 * Fills a MemoryPeerStore with distinct peers (peer k: user k % 50000 + 1, one in 20 over IPv6, one
 * in 4 a seeder), as `started` announces with numwant 50, then prints the memory per peer measured
 * after full GCs: the RSS delta and the V8 figures (heapUsed + external; external already includes
 * arrayBuffers, which is shown on its own too). The fill's garbage grows V8's young generation
 * (up to 32 MiB, whatever the number of peers); the figures are printed right after the fill and
 * again once V8's memory reducer has shrunk it back (up to --idle seconds of idling, default 90;
 * --idle 0 skips it). Then it times re-announces (event none, numwant 50, in a scattered order), a
 * sweep that removes nothing, and a sweep that removes everything.
 *
 * Peers join in a scattered order by default, so that a swarm's peers are spread over the slab as
 * they are in a running tracker (--order sequential fills swarm after swarm: flattering, since the
 * ring walks then read neighbouring records).
 *
 * Layouts: `block` puts peers k*T/N.. in torrent floor(k*T/N), so that each swarm's peers belong to
 * distinct users (the usual private-tracker shape); `stride` puts peer k in torrent k % T, which
 * with 100,000 torrents and 50,000 users gives every user 10 peers in each of two swarms (the worst
 * case for the lookup table, whose hash groups a user's peers in one swarm; needs max-per-user >= 10).
 *
 * Info hashes are built as fresh strings for every announce, as a request parser would.
 */
import v8 from 'node:v8';
import { MemoryPeerStore } from '../src/swarm/memory-peer-store.js';
import type { InfoHash } from '../src/shared/types.js';
import type { PeerAnnounce } from '../src/swarm/peer-store.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}

const N = Number(arg('peers', '1000000'));
const T = Number(arg('torrents', '100000'));
const layout = arg('layout', 'block');
const maxPerUser = Number(arg('max-per-user', '10'));
const passes = Number(arg('passes', '2'));
const idleMax = Number(arg('idle', '90'));
const order = arg('order', 'scattered');
if (!(N > 0 && T > 0 && T <= N) || (layout !== 'block' && layout !== 'stride') || (order !== 'scattered' && order !== 'sequential')) {
  console.error(
    'usage: --peers N --torrents T (T <= N) [--layout block|stride] [--order scattered|sequential] [--max-per-user M] [--passes P] [--idle S]',
  );
  process.exit(2);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(2);
}
function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage();
}

const HEX = '0123456789abcdef';
/** A fresh 40-hex string for torrent t (scrambled, as real info hashes are). */
function infoHashOf(t: number): InfoHash {
  let s = '';
  let x = t + 1;
  for (let w = 0; w < 5; w++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ Math.imul(w + 0x9e37, 0x297a2d39);
    for (let i = 0; i < 8; i++) s += HEX[(x >>> (i * 4)) & 15];
  }
  return s as InfoHash;
}

const torrentOf = (k: number): number => (layout === 'block' ? Math.floor((k * T) / N) : k % T);

const peerId = new TextEncoder().encode('-qB4650-000000000000');
const ip4 = new Uint8Array(4);
const ip6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const BASE = 1_700_000_000;
const req: PeerAnnounce = {
  infoHash: '' as InfoHash,
  userId: 0,
  peerId,
  ip: ip4,
  port: 0,
  uploaded: 0,
  downloaded: 0,
  left: 0,
  event: 'started',
  numwant: 50,
  wantPeerIds: false,
  now: BASE,
};

function fillRequest(k: number): void {
  req.infoHash = infoHashOf(torrentOf(k));
  req.userId = (k % 50000) + 1;
  // Peer id: the client prefix, then 12 bytes from k.
  let x = k;
  for (let i = 8; i < 20; i++) {
    peerId[i] = 48 + (x % 10);
    x = Math.floor(x / 10);
  }
  if (k % 20 === 7) {
    ip6[12] = k >>> 24;
    ip6[13] = k >>> 16;
    ip6[14] = k >>> 8;
    ip6[15] = k;
    req.ip = ip6;
  } else {
    ip4[0] = 10 + ((k >>> 24) & 63);
    ip4[1] = k >>> 16;
    ip4[2] = k >>> 8;
    ip4[3] = k;
    req.ip = ip4;
  }
  req.port = 1024 + (k % 60000);
  req.left = k % 4 === 0 ? 0 : 1_000_000;
}

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
const newSpace = (): number => v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')?.physical_space_size ?? 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const before = settle();
const newBefore = newSpace();
const store = new MemoryPeerStore({ maxPeersPerUser: maxPerUser });

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
function coprimeStride(x: number): number {
  let st = x % N || 1;
  while (gcd(st, N) !== 1) st++;
  return st;
}

// Peers join in a scattered order (as they do: every swarm gets joiners all the time), so that a
// swarm's peers end up spread over the slab; --order sequential fills swarm after swarm instead.
const fillStride = order === 'scattered' ? coprimeStride(611953) : 1;
let t0 = performance.now();
let refused = 0;
for (let i = 0, k = 0; i < N; i++, k = (k + fillStride) % N) {
  fillRequest(k);
  req.event = 'started';
  req.now = BASE;
  if (store.announce(req).refused !== undefined) refused++;
}
const fillMs = performance.now() - t0;
const after = settle();
const st = store.stats();

function report(label: string, m: NodeJS.MemoryUsage, peers: number): void {
  const rss = m.rss - before.rss;
  const v8b = m.heapUsed + m.external - (before.heapUsed + before.external);
  const heap = m.heapUsed - before.heapUsed;
  const ab = m.arrayBuffers - before.arrayBuffers;
  const young = newSpace() - newBefore;
  console.log(`  ${label}`);
  console.log(`    RSS delta             ${mb(rss)}  = ${(rss / peers).toFixed(1)} B/peer (V8 young generation grew ${mb(young)})`);
  console.log(`    heapUsed + external   ${mb(v8b)}  = ${(v8b / peers).toFixed(1)} B/peer`);
  console.log(`      of which heapUsed   ${mb(heap)}  = ${(heap / peers).toFixed(1)} B/peer (JS heap)`);
  console.log(`      of which arrayBufs  ${mb(ab)}  = ${(ab / peers).toFixed(1)} B/peer`);
}

console.log(`peer store memory: ${N} peers over ${T} torrents (layout ${layout}, ${order} joins), node ${process.version}`);
console.log(`  stored: ${st.peers} peers (${st.seeders} seeders, ${st.ipv6} IPv6), ${st.torrents} torrents, ${refused} refused`);
console.log(`  typed arrays held     ${mb(store.typedBytes())}  = ${(store.typedBytes() / st.peers).toFixed(1)} B/peer`);
report('right after the fill and full GCs:', after, st.peers);
// The fill's garbage (announce outcomes, request strings) grows V8's young generation to its
// maximum; V8's memory reducer gives it back once the process is idle. Wait for that, then measure
// again: this is the memory the store itself holds.
if (idleMax > 0) {
  const t = performance.now();
  while (newSpace() > newBefore && performance.now() - t < idleMax * 1000) await sleep(1000);
  report(`after ${((performance.now() - t) / 1000).toFixed(0)} s idle (V8 memory reducer) and full GCs:`, settle(), st.peers);
}
console.log(`  fill (new peers)      ${((N / fillMs) * 1000).toFixed(0)} announces/s`);

// Re-announces in a scattered order (a stride coprime with N walks every peer once per pass).
const stride = coprimeStride(999983);
let returned = 0;
for (let p = 0; p < passes; p++) {
  t0 = performance.now();
  let k = 0;
  for (let i = 0; i < N; i++) {
    k += stride;
    if (k >= N) k -= N;
    fillRequest(k);
    req.event = 'none';
    req.uploaded = p * 1000;
    req.now = BASE + 1800 * (p + 1);
    const o = store.announce(req);
    returned += o.peers4.length / 6 + o.peers6.length / 18;
  }
  const ms = performance.now() - t0;
  console.log(`  re-announce pass ${p + 1}     ${((N / ms) * 1000).toFixed(0)} announces/s (numwant 50, ${(returned / N / (p + 1)).toFixed(1)} peers each)`);
}

// The same with the info hash strings built beforehand (and their hash codes cached by V8): the
// store alone, without the cost of making a request's key.
{
  const hashes: InfoHash[] = [];
  for (let t = 0; t < T; t++) hashes.push(infoHashOf(t));
  t0 = performance.now();
  let k = 0;
  for (let i = 0; i < N; i++) {
    k += stride;
    if (k >= N) k -= N;
    fillRequest(k);
    req.infoHash = hashes[torrentOf(k)]!;
    req.event = 'none';
    req.now = BASE + 1800 * (passes + 1);
    store.announce(req);
  }
  const ms = performance.now() - t0;
  console.log(`  re-announce, prebuilt info hash strings  ${((N / ms) * 1000).toFixed(0)} announces/s`);
}

t0 = performance.now();
const none = store.sweep(BASE);
console.log(`  sweep, nothing to do  ${(performance.now() - t0).toFixed(1)} ms (expired ${none.expired})`);
t0 = performance.now();
const all = store.sweep(BASE + 1e6);
console.log(
  `  sweep, everything     ${(performance.now() - t0).toFixed(1)} ms (expired ${all.expired}, swarms removed ${all.swarmsRemoved})`,
);
