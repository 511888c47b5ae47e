/**
 * The JavaScript side of a UDP announce (or scrape), without the kernel: the whole batched path
 * (BatchedUdpSocket, UdpTracker, TrackerService in listed mode, AccessCache, MemoryPeerStore,
 * Ledger) driven through a stand-in for the native addon, with datagrams shaped like the shared
 * harness's (../shared/bench/lib/udpload.c: peer k on torrent k % T, 30 % seeders, random
 * counters, numwant 50, event none after a prefill of every peer).
 *
 *   node --import tsx scripts/udp-path-bench.ts [--torrents 10000] [--peers 200000]
 *        [--announces 2000000] [--action announce|scrape] [--rounds 3]
 *
 * Prints the time per datagram of each round, then the best and the median round (and the share spent copying datagrams into the
 * receive slots, which the kernel does in a real run). Add `--cpu-prof` to node's flags for a
 * profile. A quick, steady signal for changes on the announce path: the harness
 * (npm run bench) is the measure of record.
 */
import { randomBytes } from 'node:crypto';
import { UdpTracker } from '../src/tracker/udp-tracker.js';
import { SLOTS, SLOT_SIZE, type UdpBatchAddon } from '../src/tracker/udp-batch-io.js';
import { TrackerService } from '../src/swarm/tracker-service.js';
import { AccessCache } from '../src/swarm/access-cache.js';
import { MemoryPeerStore } from '../src/swarm/memory-peer-store.js';
import { Ledger } from '../src/swarm/ledger.js';
import { TrackerStats } from '../src/shared/metrics.js';
import { silentLogger } from '../src/shared/log.js';
import { systemClock } from '../src/shared/clock.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const T = Number(arg('torrents', '10000'));
const N = Number(arg('peers', '200000'));
const COUNT = Number(arg('announces', '2000000'));
const ROUNDS = Number(arg('rounds', '3'));
const action = arg('action', 'announce');
if (!(T > 0 && N >= T && COUNT >= SLOTS && ROUNDS > 0) || (action !== 'announce' && action !== 'scrape')) {
  console.error('usage: --torrents T --peers N (N >= T) --announces K --rounds R --action announce|scrape');
  process.exit(2);
}

const hashes = Array.from({ length: T }, () => randomBytes(20));
const access = new AccessCache();
access.replaceAll({
  users: [],
  torrents: hashes.map((h, i) => ({
    infoHash: h.toString('hex'),
    torrentId: i + 1,
    status: 'active' as const,
    deletedReason: null,
    deletedAt: null,
    uploadFactor: 1,
    downloadFactor: 1,
  })),
  rules: [],
});
const store = new MemoryPeerStore({ maxPeersPerUser: 10 });
const service = new TrackerService(
  {
    mode: 'listed',
    interval: 1800,
    intervalJitter: 0.1,
    minInterval: 300,
    numwantDefault: 50,
    numwantMax: 200,
    peerTimeout: 2700,
    maxPeersPerUser: 10,
    fullScrape: false,
    unregisteredReasonTtl: 86400,
  },
  access,
  store,
  new Ledger(),
  systemClock,
);

// The stand-in addon: keeps the shared buffers and the batch callback; "sends" by counting.
let inBuf!: Uint8Array;
let inMeta!: Int32Array;
let outBuf!: Uint8Array;
let outMeta!: Int32Array;
let onBatch!: (n: number) => void;
let sent = 0;
let sentBytes = 0;
const addon: UdpBatchAddon = {
  open(_host, port, _v6, ib, im, ob, om, _slots, _slotSize, _outSlots, cb) {
    inBuf = new Uint8Array(ib);
    inMeta = new Int32Array(im);
    outBuf = new Uint8Array(ob);
    outMeta = new Int32Array(om);
    onBatch = cb;
    return [{}, port === 0 ? 6969 : port];
  },
  send(_h, n) {
    sent += n;
    for (let i = 0; i < n; i++) sentBytes += outMeta[i * 8 + 1]!;
    return n;
  },
  close() {},
};
const tracker = new UdpTracker({
  service,
  stats: new TrackerStats(),
  log: silentLogger(),
  clock: systemClock,
  connectionTtl: 300,
  maxResponseBytes: 1200,
  maxScrapeHashes: 74,
  io: 'batched',
  batchAddon: addon,
});
await tracker.listen('127.0.0.1', 0);

/** Sets slot i's metadata: length, source 127.0.0.1:port. */
function meta(i: number, len: number, port: number): void {
  const o = i * 8;
  inMeta[o] = len;
  inMeta[o + 1] = 0;
  inMeta[o + 2] = port;
  inMeta[o + 3] = 4;
  const b = new Uint8Array(inMeta.buffer, i * 32 + 16, 4);
  b[0] = 127;
  b[1] = 0;
  b[2] = 0;
  b[3] = 1;
}

// Connect, and read the connection id back from the answer.
const connect = Buffer.alloc(16);
connect.writeUInt32BE(0x417, 0);
connect.writeUInt32BE(0x27101980, 4);
connect.writeUInt32BE(0, 8);
connect.writeUInt32BE(7, 12);
inBuf.set(connect, 0);
meta(0, 16, 40000);
const before = sent;
onBatch(1);
if (sent !== before + 1) throw new Error('no answer to connect');
const cid = Buffer.from(outBuf.subarray(outMeta[0]! + 8, outMeta[0]! + 16));

const REC = 98;
function announcePacket(out: Buffer, off: number, k: number, event: number): void {
  cid.copy(out, off);
  out.writeUInt32BE(1, off + 8);
  out.writeUInt32BE(k >>> 0, off + 12);
  hashes[k % T]!.copy(out, off + 16);
  // peer id: "-UL0001-" then k in 12 hex digits
  out.write('-UL0001-' + k.toString(16).padStart(12, '0'), off + 36, 'latin1');
  const seeder = (((k * 40503) % 65521) % 100) < 30;
  const rnd = () => Math.floor(Math.random() * 2 ** 30);
  out.writeUInt32BE(0, off + 56);
  out.writeUInt32BE(rnd(), off + 60);
  out.writeUInt32BE(0, off + 64);
  out.writeUInt32BE(seeder ? 0 : 1 + rnd(), off + 68);
  out.writeUInt32BE(0, off + 72);
  out.writeUInt32BE(rnd(), off + 76);
  out.writeUInt32BE(event, off + 80);
  out.writeUInt32BE(0, off + 84);
  out.writeUInt32BE((k * 2654435761) >>> 0, off + 88);
  out.writeInt32BE(50, off + 92);
  out.writeUInt16BE(1025 + (Math.floor(k / T) % 64500), off + 96);
}
function scrapePacket(out: Buffer, off: number, k: number): number {
  cid.copy(out, off);
  out.writeUInt32BE(2, off + 8);
  out.writeUInt32BE(k >>> 0, off + 12);
  hashes[k % T]!.copy(out, off + 16);
  return 36;
}

const inB = Buffer.from(inBuf.buffer, inBuf.byteOffset, inBuf.byteLength);
/** Runs `total` datagrams from `src` (records of `rec` bytes, `len` long) in batches of SLOTS. */
function drive(src: Buffer, rec: number, len: number, total: number, copyOnly: boolean): number {
  const recs = src.length / rec;
  let r = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < total; done += SLOTS) {
    for (let i = 0; i < SLOTS; i++) {
      src.copy(inB, i * SLOT_SIZE, r * rec, r * rec + len);
      meta(i, len, 40000 + i);
      if (++r === recs) r = 0;
    }
    if (!copyOnly) onBatch(SLOTS);
  }
  return Number(process.hrtime.bigint() - t0) / total;
}

// Prefill: every peer once, event started, in order.
const fill = Buffer.alloc(N * REC);
for (let k = 0; k < N; k++) announcePacket(fill, k * REC, k, 2);
drive(fill, REC, REC, Math.ceil(N / SLOTS) * SLOTS, false);
const st = store.stats();
console.log(`prefilled: ${st.peers} peers (${st.seeders} seeders) in ${st.torrents} torrents; ${sent} answers so far`);

// The load: random peers, event none (or scrapes of one random torrent each).
const M = Math.min(COUNT, 500_000);
const rec = action === 'announce' ? REC : 36;
const load = Buffer.alloc(M * rec);
for (let j = 0; j < M; j++) {
  const k = Math.floor(Math.random() * N);
  if (action === 'announce') announcePacket(load, j * rec, k, 0);
  else scrapePacket(load, j * rec, k);
}
const copyNs = drive(load, rec, rec, COUNT, true);
const times: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const s0 = sent;
  const b0 = sentBytes;
  const ns = drive(load, rec, rec, COUNT, false);
  times.push(ns);
  const answers = sent - s0;
  console.log(
    `round ${round}: ${ns.toFixed(0)} ns per ${action} (${(1e9 / ns / 1000).toFixed(1)}k/s), of which ${copyNs.toFixed(0)} ns copying datagrams in; ` +
      `${answers} answers, ${((sentBytes - b0) / answers).toFixed(0)} bytes each`,
  );
}
times.sort((a, b) => a - b);
console.log(`best ${times[0]!.toFixed(0)} ns, median ${times[times.length >> 1]!.toFixed(0)} ns per ${action} over ${ROUNDS} rounds`);
await tracker.close();
