/**
 * Tracker protocol helpers for end-to-end tests:
 * - a scripted HTTP announce client (binary-safe: every byte of info_hash/peer_id percent-encoded)
 *   and raw GETs for malformed requests;
 * - a scripted UDP tracker client (BEP 15, with BEP 41 URL data);
 * - recording proxies that sit between a real BitTorrent client and the tracker and log every
 *   announce the client sent (its counters and event) with the tracker's verdict. The tests use
 *   them to know exactly what a client REPORTED, which is what a tracker credits. The UDP proxy
 *   can also add the BEP 41 URL-data option carrying the passkey, which neither aria2 1.36 nor
 *   Transmission 3.00 sends (see test/e2e/README.md).
 */
import http from 'node:http';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { bdecodeDict, dictInt, dictString, type BDict } from './bencode.js';

// ------------------------------------------------------------------ HTTP

/** %XX for every byte (binary safe, as BEP 3 allows). */
export function percentEncodeAll(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += '%' + x.toString(16).toUpperCase().padStart(2, '0');
  return s;
}

export type QueryValue = string | number | bigint | Uint8Array;

/** Builds a query string; Uint8Array values are fully percent-encoded, strings are URI-encoded. */
export function buildQuery(params: Record<string, QueryValue | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    const enc = v instanceof Uint8Array ? percentEncodeAll(v) : encodeURIComponent(String(v));
    parts.push(`${k}=${enc}`);
  }
  return parts.join('&');
}

export interface HttpReply {
  status: number;
  body: Buffer;
  /** The bencoded dictionary, when the body decodes as one. */
  dict: BDict | null;
  /** `failure reason`, when present. */
  failure: string | null;
  /** The body failed to bdecode (message), else null. */
  decodeError: string | null;
}

/**
 * GET `path` (already encoded, sent verbatim: no URL normalisation) from host:port, with a
 * timeout. Used for both good and deliberately malformed announces.
 */
export function httpGetRaw(host: string, port: number, path: string, timeoutMs = 5_000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let dict: BDict | null = null;
        let decodeError: string | null = null;
        try {
          dict = bdecodeDict(body);
        } catch (e) {
          decodeError = (e as Error).message;
        }
        resolve({
          status: res.statusCode ?? 0,
          body,
          dict,
          failure: dict ? (dictString(dict, 'failure reason') ?? null) : null,
          decodeError,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export interface AnnounceParams {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  port: number;
  uploaded: number | bigint;
  downloaded: number | bigint;
  left: number | bigint;
  event?: 'started' | 'stopped' | 'completed';
  compact?: 0 | 1;
  numwant?: number;
  key?: string;
}

/** An HTTP announce to `announceUrl` (e.g. http://127.0.0.1:P/<passkey>/announce). */
export function httpAnnounce(announceUrl: string, p: AnnounceParams, timeoutMs = 5_000): Promise<HttpReply> {
  const u = new URL(announceUrl);
  const q = buildQuery({
    info_hash: p.infoHash,
    peer_id: p.peerId,
    port: p.port,
    uploaded: p.uploaded,
    downloaded: p.downloaded,
    left: p.left,
    event: p.event,
    compact: p.compact ?? 1,
    numwant: p.numwant,
    key: p.key,
  });
  const path = u.pathname + (u.search ? u.search + '&' : '?') + q;
  return httpGetRaw(u.hostname, Number(u.port), path, timeoutMs);
}

/** Decodes %XX (and '+' as-is) of a raw query component into bytes; null on bad encoding. */
export function percentDecodeBytes(s: string): Buffer | null {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
      out.push(parseInt(h, 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      out.push(...Buffer.from(s[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(out);
}

/** The raw query of an announce, binary-safe: key -> bytes (first occurrence). */
export function parseRawQuery(rawQuery: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = percentDecodeBytes(eq < 0 ? '' : part.slice(eq + 1));
    if (v && !m.has(k)) m.set(k, v);
  }
  return m;
}

// ------------------------------------------------------------------ recording

export interface AnnounceRecord {
  transport: 'http' | 'udp';
  /** Label given to the proxy that saw it (the member's name). */
  label: string;
  /** Date.now() when the proxy received it. */
  at: number;
  infoHash: string;
  peerId: string;
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event: 'started' | 'stopped' | 'completed' | 'none';
  /** null until the tracker's answer arrives (stays null if it never does). */
  ok: boolean | null;
  failure: string | null;
  /** UDP: the BEP 41 URL data the client itself sent (null: none). */
  urlData?: string | null;
  /** UDP: the proxy added the URL-data option because the client sent none. */
  injectedUrlData?: boolean;
}

function eventOf(s: string | undefined): AnnounceRecord['event'] {
  return s === 'started' || s === 'stopped' || s === 'completed' ? s : 'none';
}

/** Totals a tracker should credit from these announces, per label. */
export interface ReportedTotals {
  uploaded: number;
  downloaded: number;
  /** Announces the tracker accepted. */
  announces: number;
  /** Every peer session ended with an accepted event=stopped. */
  allStopped: boolean;
}

/**
 * What the client reported, as a tracker that credits deltas of cumulative counters sees it:
 * for each peer session (label, info hash, peer id; a new session begins at event=started or
 * after event=stopped), the last accepted counters minus the first accepted ones (minus zero when
 * the session began with `started`). Only announces the tracker answered successfully count.
 */
export function reportedTotals(records: readonly AnnounceRecord[], label: string): ReportedTotals {
  const sessions = new Map<string, { first: AnnounceRecord; last: AnnounceRecord }[]>();
  let announces = 0;
  for (const r of records) {
    if (r.label !== label || r.ok !== true) continue;
    announces++;
    const key = `${r.infoHash}/${r.peerId}`;
    const list = sessions.get(key) ?? [];
    sessions.set(key, list);
    const cur = list[list.length - 1];
    if (!cur || r.event === 'started' || cur.last.event === 'stopped') list.push({ first: r, last: r });
    else cur.last = r;
  }
  let uploaded = 0;
  let downloaded = 0;
  let allStopped = true;
  for (const list of sessions.values()) {
    for (const s of list) {
      // docs/tracker.md: a new peer announcing `started` is credited its counters from zero;
      // otherwise its first counters are only a baseline.
      const base = s.first.event === 'started' ? { uploaded: 0, downloaded: 0 } : s.first;
      uploaded += s.last.uploaded - base.uploaded;
      downloaded += s.last.downloaded - base.downloaded;
      if (s.last.event !== 'stopped') allStopped = false;
    }
  }
  return { uploaded, downloaded, announces, allStopped };
}

export function formatRecords(records: readonly AnnounceRecord[]): string {
  return records
    .map(
      (r) =>
        `${new Date(r.at).toISOString().slice(11, 23)} ${r.transport} ${r.label} ih=${r.infoHash.slice(0, 8)} ` +
        `peer=${Buffer.from(r.peerId, 'hex').toString('latin1').replace(/[^\x20-\x7e]/g, '.')} port=${r.port} ` +
        `up=${r.uploaded} down=${r.downloaded} left=${r.left} event=${r.event} ok=${r.ok}${r.failure ? ` failure=${JSON.stringify(r.failure)}` : ''}` +
        (r.transport === 'udp' ? ` urlData=${JSON.stringify(r.urlData ?? null)}${r.injectedUrlData ? ' (injected by the proxy)' : ''}` : ''),
    )
    .join('\n');
}

/**
 * Transparent HTTP proxy in front of a tracker, for ONE member (`label`), that records every
 * announce. The path and query are forwarded verbatim.
 */
export class HttpAnnounceProxy {
  readonly records: AnnounceRecord[];
  port = 0;
  private readonly server: http.Server;

  private constructor(
    private upstreamHost: string,
    private upstreamPort: number,
    readonly label: string,
    records: AnnounceRecord[],
  ) {
    this.records = records;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** Sends the next announces to another tracker (a load balancer moving a client to another node). */
  retarget(host: string, port: number): void {
    this.upstreamHost = host;
    this.upstreamPort = port;
  }

  /** `records` may be shared with other proxies (one list for the whole test). */
  static async start(
    upstreamHost: string,
    upstreamPort: number,
    opts: { label: string; records?: AnnounceRecord[] },
  ): Promise<HttpAnnounceProxy> {
    const p = new HttpAnnounceProxy(upstreamHost, upstreamPort, opts.label, opts.records ?? []);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, '127.0.0.1', () => resolve());
    });
    const a = p.server.address();
    p.port = typeof a === 'object' && a ? a.port : 0;
    return p;
  }

  /** Announce URL through this proxy for a given tracker path, e.g. `/<passkey>/announce`. */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const pathname = qi < 0 ? raw : raw.slice(0, qi);
    let rec: AnnounceRecord | null = null;
    if (pathname.endsWith('/announce')) {
      const q = parseRawQuery(qi < 0 ? '' : raw.slice(qi + 1));
      const num = (k: string): number => Number(q.get(k)?.toString('latin1') ?? 'NaN');
      rec = {
        transport: 'http',
        label: this.label,
        at: Date.now(),
        infoHash: q.get('info_hash')?.toString('hex') ?? '',
        peerId: q.get('peer_id')?.toString('hex') ?? '',
        port: num('port'),
        uploaded: num('uploaded'),
        downloaded: num('downloaded'),
        left: num('left'),
        event: eventOf(q.get('event')?.toString('latin1')),
        ok: null,
        failure: null,
      };
      this.records.push(rec);
    }
    const headers = { ...req.headers, host: `${this.upstreamHost}:${this.upstreamPort}` };
    const up = http.request(
      { host: this.upstreamHost, port: this.upstreamPort, path: raw, method: req.method, headers, agent: false, timeout: 10_000 },
      (ures) => {
        const chunks: Buffer[] = [];
        ures.on('data', (c: Buffer) => chunks.push(c));
        ures.on('end', () => {
          const body = Buffer.concat(chunks);
          if (rec) {
            try {
              const d = bdecodeDict(body);
              rec.failure = dictString(d, 'failure reason') ?? null;
              rec.ok = ures.statusCode === 200 && rec.failure === null && dictInt(d, 'interval') !== undefined;
            } catch {
              rec.ok = false;
              rec.failure = `undecodable reply (HTTP ${ures.statusCode}): ${body.subarray(0, 200).toString('latin1')}`;
            }
          }
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          res.end(body);
        });
        ures.on('error', () => res.destroy());
      },
    );
    up.on('timeout', () => up.destroy(new Error('upstream timeout')));
    up.on('error', (e) => {
      if (rec) {
        rec.ok = false;
        rec.failure = `proxy: upstream error ${e.message}`;
      }
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ------------------------------------------------------------------ UDP (BEP 15, BEP 41)

export const UDP_PROTOCOL_ID = 0x41727101980n;
const ACTION_CONNECT = 0;
const ACTION_ANNOUNCE = 1;
const ACTION_SCRAPE = 2;
const ACTION_ERROR = 3;
const UDP_EVENTS = ['none', 'completed', 'started', 'stopped'] as const;

/** BEP 41 options: URL data (type 2) in chunks of at most 255 bytes, then end of options. */
export function bep41UrlData(urlData: string): Buffer {
  const data = Buffer.from(urlData, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const chunk = data.subarray(i, i + 255);
    parts.push(Buffer.from([0x02, chunk.length]), chunk);
  }
  parts.push(Buffer.from([0x00]));
  return Buffer.concat(parts);
}

/**
 * The URL data (BEP 41 option type 2, concatenated) found in the bytes after a 98-byte announce,
 * or null when there is none. aria2 1.36 sends two zero bytes there, Transmission 3.00 nothing.
 */
export function bep41UrlDataOf(opts: Buffer): string | null {
  const parts: Buffer[] = [];
  for (let i = 0; i < opts.length; ) {
    const type = opts[i];
    if (type === 0x00) break;
    if (type === 0x01) {
      i++;
      continue;
    }
    const len = opts[i + 1];
    if (len === undefined) break;
    if (type === 0x02) parts.push(opts.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return parts.length ? Buffer.concat(parts).toString('latin1') : null;
}

export function udpConnectPacket(transactionId: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(UDP_PROTOCOL_ID, 0);
  b.writeUInt32BE(ACTION_CONNECT, 8);
  b.writeUInt32BE(transactionId >>> 0, 12);
  return b;
}

export interface UdpAnnounceFields {
  connectionId: bigint;
  transactionId: number;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  downloaded: number | bigint;
  left: number | bigint;
  uploaded: number | bigint;
  event?: 'none' | 'completed' | 'started' | 'stopped';
  ip?: number;
  key?: number;
  numwant?: number;
  port: number;
  /** BEP 41 URL data, e.g. `/<passkey>/announce`. */
  urlData?: string;
}

export function udpAnnouncePacket(f: UdpAnnounceFields): Buffer {
  const b = Buffer.alloc(98);
  b.writeBigUInt64BE(f.connectionId, 0);
  b.writeUInt32BE(ACTION_ANNOUNCE, 8);
  b.writeUInt32BE(f.transactionId >>> 0, 12);
  Buffer.from(f.infoHash).copy(b, 16);
  Buffer.from(f.peerId).copy(b, 36);
  b.writeBigUInt64BE(BigInt(f.downloaded), 56);
  b.writeBigUInt64BE(BigInt(f.left), 64);
  b.writeBigUInt64BE(BigInt(f.uploaded), 72);
  b.writeUInt32BE(UDP_EVENTS.indexOf(f.event ?? 'none'), 80);
  b.writeUInt32BE(f.ip ?? 0, 84);
  b.writeUInt32BE((f.key ?? 0) >>> 0, 88);
  b.writeInt32BE(f.numwant ?? -1, 92);
  b.writeUInt16BE(f.port, 96);
  return f.urlData === undefined ? b : Buffer.concat([b, bep41UrlData(f.urlData)]);
}

export type UdpReply =
  | { action: 'connect'; transactionId: number; connectionId: bigint }
  | { action: 'announce'; transactionId: number; interval: number; leechers: number; seeders: number; peers: Buffer }
  | { action: 'scrape'; transactionId: number; raw: Buffer }
  | { action: 'error'; transactionId: number; message: string }
  | { action: 'unknown'; transactionId: number; raw: Buffer };

export function parseUdpReply(m: Buffer): UdpReply | null {
  if (m.length < 8) return null;
  const action = m.readUInt32BE(0);
  const transactionId = m.readUInt32BE(4);
  if (action === ACTION_CONNECT && m.length >= 16) return { action: 'connect', transactionId, connectionId: m.readBigUInt64BE(8) };
  if (action === ACTION_ANNOUNCE && m.length >= 20)
    return {
      action: 'announce',
      transactionId,
      interval: m.readUInt32BE(8),
      leechers: m.readUInt32BE(12),
      seeders: m.readUInt32BE(16),
      peers: m.subarray(20),
    };
  if (action === ACTION_SCRAPE) return { action: 'scrape', transactionId, raw: m };
  if (action === ACTION_ERROR) return { action: 'error', transactionId, message: m.subarray(8).toString('utf8') };
  return { action: 'unknown', transactionId, raw: m };
}

/**
 * A scripted BEP 15 client on its own socket. Every wait is bounded; replies whose transaction
 * id does not match are kept in `stray` (tests assert that garbage got no answer).
 */
export class UdpTrackerClient {
  private readonly sock: dgram.Socket;
  private readonly waiters = new Map<number, (r: UdpReply) => void>();
  /** Every datagram received that matched no pending request. */
  readonly stray: Buffer[] = [];
  /** Every datagram received. */
  received = 0;
  connectionId: bigint | null = null;

  private constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.sock.on('message', (m) => {
      this.received++;
      const r = parseUdpReply(m);
      const w = r ? this.waiters.get(r.transactionId) : undefined;
      if (r && w) {
        this.waiters.delete(r.transactionId);
        w(r);
      } else this.stray.push(m);
    });
  }

  static async open(host: string, port: number): Promise<UdpTrackerClient> {
    const c = new UdpTrackerClient(host, port);
    await new Promise<void>((resolve, reject) => {
      c.sock.once('error', reject);
      c.sock.bind(0, host.includes(':') ? '::1' : '127.0.0.1', () => resolve());
    });
    return c;
  }

  get localPort(): number {
    return this.sock.address().port;
  }

  /** Sends raw bytes (no reply expected). */
  sendRaw(b: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.sock.send(b, this.port, this.host, (e) => (e ? reject(e) : resolve())));
  }

  /** Sends `packet` and waits for the reply carrying `transactionId` (retries, then throws). */
  async request(packet: Buffer, transactionId: number, { timeoutMs = 1_000, tries = 3 } = {}): Promise<UdpReply> {
    for (let i = 0; i < tries; i++) {
      const reply = new Promise<UdpReply | null>((resolve) => {
        const timer = setTimeout(() => {
          this.waiters.delete(transactionId);
          resolve(null);
        }, timeoutMs);
        this.waiters.set(transactionId, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
      await this.sendRaw(packet);
      const r = await reply;
      if (r) return r;
    }
    throw new Error(`UDP tracker ${this.host}:${this.port}: no reply to transaction ${transactionId} after ${tries} tries`);
  }

  async connect(opts: { timeoutMs?: number; tries?: number } = {}): Promise<bigint> {
    const tid = randomBytes(4).readUInt32BE(0);
    const r = await this.request(udpConnectPacket(tid), tid, opts);
    if (r.action !== 'connect') throw new Error(`UDP connect: unexpected reply ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    this.connectionId = r.connectionId;
    return r.connectionId;
  }

  /** Announces with the current connection id (connecting first if there is none). */
  async announce(f: Omit<UdpAnnounceFields, 'connectionId' | 'transactionId'>, opts: { timeoutMs?: number; tries?: number } = {}): Promise<UdpReply> {
    const cid = this.connectionId ?? (await this.connect(opts));
    const tid = randomBytes(4).readUInt32BE(0);
    return this.request(udpAnnouncePacket({ ...f, connectionId: cid, transactionId: tid }), tid, opts);
  }

  /** Number of datagrams received during the next `ms` milliseconds. */
  async countRepliesFor(ms: number): Promise<number> {
    const before = this.received;
    await new Promise((r) => setTimeout(r, ms));
    return this.received - before;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.sock.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/**
 * UDP proxy in front of a UDP tracker, for ONE member (`label`): it records every announce,
 * and when `urlData` is given and the client's announce carries no BEP 41 URL data of its own,
 * it replaces whatever follows the 98-byte announce with a URL-data option carrying `urlData`
 * (e.g. `/<passkey>/announce`), as a BEP 41 client would have sent it. Records say whether the
 * client sent URL data itself (`urlData`) or the proxy added it (`injectedUrlData`).
 * Each client address gets its own upstream socket so replies find their way back.
 */
export class UdpAnnounceProxy {
  readonly records: AnnounceRecord[];
  port = 0;
  private readonly front: dgram.Socket;
  private readonly upstreams = new Map<string, dgram.Socket>();
  private readonly pending = new Map<number, AnnounceRecord>();

  private constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
    readonly label: string,
    private readonly urlData: string | undefined,
    records: AnnounceRecord[],
  ) {
    this.records = records;
    this.front = dgram.createSocket('udp4');
    this.front.on('message', (m, rinfo) => this.fromClient(m, rinfo));
  }

  /** `records` may be shared between several proxies (one list for the whole test). */
  static async start(
    upstreamHost: string,
    upstreamPort: number,
    opts: { label: string; urlData?: string; records?: AnnounceRecord[] },
  ): Promise<UdpAnnounceProxy> {
    const p = new UdpAnnounceProxy(upstreamHost, upstreamPort, opts.label, opts.urlData, opts.records ?? []);
    await new Promise<void>((resolve, reject) => {
      p.front.once('error', reject);
      p.front.bind(0, '127.0.0.1', () => resolve());
    });
    p.port = p.front.address().port;
    return p;
  }

  url(path: string): string {
    return `udp://127.0.0.1:${this.port}${path}`;
  }

  private fromClient(m: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let up = this.upstreams.get(key);
    if (!up) {
      const sock = dgram.createSocket('udp4');
      sock.on('message', (reply) => {
        const r = parseUdpReply(reply);
        const rec = r ? this.pending.get(r.transactionId) : undefined;
        if (r && rec) {
          this.pending.delete(r.transactionId);
          rec.ok = r.action === 'announce';
          rec.failure = r.action === 'error' ? r.message : r.action === 'announce' ? null : `unexpected reply action ${r.action}`;
        }
        this.front.send(reply, rinfo.port, rinfo.address);
      });
      sock.on('error', () => undefined);
      sock.bind(0, '127.0.0.1');
      this.upstreams.set(key, sock);
      up = sock;
    }
    let out = m;
    if (m.length >= 98 && m.readUInt32BE(8) === ACTION_ANNOUNCE) {
      const rec: AnnounceRecord = {
        transport: 'udp',
        label: this.label,
        at: Date.now(),
        infoHash: m.subarray(16, 36).toString('hex'),
        peerId: m.subarray(36, 56).toString('hex'),
        downloaded: Number(m.readBigUInt64BE(56)),
        left: Number(m.readBigUInt64BE(64)),
        uploaded: Number(m.readBigUInt64BE(72)),
        event: UDP_EVENTS[m.readUInt32BE(80)] ?? 'none',
        port: m.readUInt16BE(96),
        ok: null,
        failure: null,
      };
      this.records.push(rec);
      this.pending.set(m.readUInt32BE(12), rec);
      rec.urlData = bep41UrlDataOf(m.subarray(98));
      if (this.urlData !== undefined && rec.urlData === null) {
        out = Buffer.concat([m.subarray(0, 98), bep41UrlData(this.urlData)]);
        rec.injectedUrlData = true;
      }
    }
    up.send(out, this.upstreamPort, this.upstreamHost);
  }

  async close(): Promise<void> {
    const socks = [this.front, ...this.upstreams.values()];
    await Promise.all(
      socks.map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      ),
    );
  }
}
