/**
 * The same HTTP conversations against both carriers of the HTTP tracker (tracker.http_io = "net"
 * and "native"), with a sync and an async tracker service: keep-alive, pipelining, requests split
 * across writes, HEAD, Connection: close, bad requests, health checks, IPv6, many connections,
 * the connection limit, the idle timeout, a client that does not read its answers, answers larger
 * than the native output area, and connections closed while an answer is pending. The service is
 * a stub, so that what reaches it (address, passkey) can be checked.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createHttpTracker, type HttpTracker } from './http-tracker.js';
import { loadUdpBatch } from './udp-batch-io.js';
import { makeIpPolicy } from './peer-ip.js';
import { TrackerStats } from '../shared/metrics.js';
import { silentLogger } from '../shared/log.js';
import type { TrackerService } from '../swarm/tracker-service.js';
import { percentEncodeAll } from '../../test/helpers/announce.js';
import { bdecodeDict, dictInt } from '../../test/helpers/bencode.js';

const PASSKEY = 'b'.repeat(32);

interface Seen {
  ip: string;
  port: number;
  passkey: string | null;
}

function stubService(opts: { async: boolean; npeers: number; delayMs?: number }) {
  const seen: Seen[] = [];
  const answer = <T>(v: T): T | Promise<T> => (opts.async ? new Promise((r) => setTimeout(() => r(v), opts.delayMs ?? 2)) : v);
  const peers4 = new Uint8Array(opts.npeers * 6).map((_, i) => i & 0xff);
  const service = {
    announce(req: { port: number }, passkey: string | null, ip: Uint8Array) {
      seen.push({ ip: Array.from(ip).join(ip.length === 4 ? '.' : ','), port: req.port, passkey });
      return answer({ ok: true, interval: 1800, minInterval: 300, outcome: { complete: req.port, incomplete: 3, downloaded: 0, peers4, peers6: new Uint8Array(0) } });
    },
    scrape(req: { infoHashes: Uint8Array[] }) {
      return answer({ ok: true, files: req.infoHashes.map((h) => ({ infoHash: h, counts: { complete: 1, incomplete: 2, downloaded: 3 } })) });
    },
  };
  return { service: service as unknown as TrackerService, seen };
}

function announcePath(port: number, extra = ''): string {
  return `/${PASSKEY}/announce?info_hash=${percentEncodeAll(Buffer.alloc(20, 7))}&peer_id=${percentEncodeAll(Buffer.alloc(20, 9))}&port=${port}&uploaded=0&downloaded=0&left=1${extra}`;
}

function get(path: string, headers = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: t\r\n${headers}\r\n`;
}

interface Reply {
  status: number;
  headers: string;
  body: Buffer;
}

/** A raw client: writes, and parses the answers in order as they arrive (Content-Length bodies). */
class Conn {
  private data = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  readonly sock: Socket;

  private constructor(sock: Socket) {
    this.sock = sock;
    sock.on('data', (c: Buffer) => {
      this.data = Buffer.concat([this.data, c]);
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => undefined);
  }

  static open(port: number, host = '127.0.0.1'): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(s: string | Buffer): void {
    this.sock.write(s);
  }

  /** The next answer, or null when the connection closes first. headOnly: no body follows the head. */
  async reply(timeoutMs = 5000, headOnly = false): Promise<Reply | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.data.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.data.subarray(0, end).toString('latin1');
        const m = /Content-Length: (\d+)/i.exec(head);
        const len = headOnly ? 0 : m ? Number(m[1]) : 0;
        if (this.data.length >= end + 4 + len) {
          const body = Buffer.from(this.data.subarray(end + 4, end + 4 + len));
          this.data = this.data.subarray(end + 4 + len);
          return { status: Number(head.split(' ')[1]), headers: head, body };
        }
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no answer in time');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves true once the server has closed the connection (within timeoutMs). */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  end(): void {
    this.sock.destroy();
  }
}

const haveNative = typeof loadUdpBatch()?.httpOpen === 'function';

for (const io of ['net', 'native'] as const) {
  for (const asyncStore of [false, true]) {
    describe(`HTTP tracker, io=${io}, ${asyncStore ? 'async' : 'sync'} service`, { skip: io === 'native' && !haveNative ? 'native addon not built' : false }, () => {
      let tracker: HttpTracker;
      let port: number;
      let stats: TrackerStats;
      let seen: Seen[];
      let ready = true;
      const open: Conn[] = [];
      const conn = async (host?: string, p = port) => {
        const c = await Conn.open(p, host);
        open.push(c);
        return c;
      };

      before(async () => {
        const stub = stubService({ async: asyncStore, npeers: 5 });
        seen = stub.seen;
        stats = new TrackerStats();
        tracker = createHttpTracker(
          {
            service: stub.service,
            stats,
            log: silentLogger(),
            ipPolicy: makeIpPolicy([], false),
            maxScrapeHashes: 64,
            keepAliveTimeoutMs: 10_000,
            maxConnections: 1000,
            ready: () => ready,
          },
          io,
        );
        assert.equal(tracker.io, io, 'the carrier asked for');
        port = await tracker.listen('127.0.0.1', 0);
      });
      after(async () => {
        for (const c of open) c.end();
        await tracker.close();
      });

      test('keep-alive: two announces on one connection, the address and passkey reach the service', async () => {
        const c = await conn();
        const before = seen.length;
        for (const p of [1001, 1002]) {
          c.write(get(announcePath(p)));
          const r = (await c.reply())!;
          assert.equal(r.status, 200);
          assert.match(r.headers, /Connection: keep-alive/);
          const d = bdecodeDict(r.body);
          assert.equal(dictInt(d, 'complete'), p, 'the answer of this request');
          assert.equal((d['peers'] as Buffer).length, 30);
        }
        assert.deepEqual(seen.slice(before), [
          { ip: '127.0.0.1', port: 1001, passkey: PASSKEY },
          { ip: '127.0.0.1', port: 1002, passkey: PASSKEY },
        ]);
        assert.equal(c.closed, false, 'the connection stays open');
      });

      test('pipelined requests in one write are answered in order', async () => {
        const c = await conn();
        const ports = [2001, 2002, 2003, 2004, 2005];
        c.write(ports.map((p) => get(announcePath(p))).join('') + get('/healthz') + get(announcePath(2006)));
        const got: number[] = [];
        for (let i = 0; i < 7; i++) {
          const r = (await c.reply())!;
          got.push(r.body.toString('latin1') === 'ok' ? 0 : dictInt(bdecodeDict(r.body), 'complete')!);
        }
        assert.deepEqual(got, [...ports, 0, 2006]);
      });

      test('a request written a few bytes at a time gets one answer', async () => {
        const c = await conn();
        const req = Buffer.from(get(announcePath(3001)));
        for (let i = 0; i < req.length; i += 7) {
          c.write(req.subarray(i, i + 7));
          await new Promise((r) => setTimeout(r, 1));
        }
        const r = (await c.reply())!;
        assert.equal(dictInt(bdecodeDict(r.body), 'complete'), 3001);
        // and the connection still serves the next one, sent whole
        c.write(get(announcePath(3002)));
        assert.equal(dictInt(bdecodeDict((await c.reply())!.body), 'complete'), 3002);
      });

      test('HEAD gets the head with the length of the body, and no body', async () => {
        const c = await conn();
        c.write(`HEAD ${announcePath(4001)} HTTP/1.1\r\nHost: t\r\n\r\n` + get('/healthz'));
        const h = (await c.reply(5000, true))!;
        assert.equal(h.status, 200);
        assert.ok(Number(/Content-Length: (\d+)/.exec(h.headers)![1]) > 30, 'the length of the announce body');
        const next = (await c.reply())!;
        assert.equal(next.body.toString(), 'ok', 'the next answer follows the head directly');
      });

      test('Connection: close: answered, then the server closes', async () => {
        const c = await conn();
        c.write(get(announcePath(5001), 'Connection: close\r\n'));
        const r = (await c.reply())!;
        assert.equal(r.status, 200);
        assert.match(r.headers, /Connection: close/);
        assert.ok(await c.waitClosed(), 'closed by the server');
      });

      test('HTTP/1.0 without keep-alive is closed after its answer', async () => {
        const c = await conn();
        c.write(`GET ${announcePath(5002)} HTTP/1.0\r\n\r\n`);
        assert.equal((await c.reply())!.status, 200);
        assert.ok(await c.waitClosed(), 'closed by the server');
      });

      test('bad requests: 400 for garbage, 431 for a huge head, 405 for POST, 404 elsewhere', async () => {
        const bad0 = stats.httpBadRequests;
        const g = await conn();
        g.write('\x16\x03\x01\x02\x00garbage\r\n\r\n');
        assert.equal((await g.reply())!.status, 400);
        assert.ok(await g.waitClosed(), 'a request that is not HTTP closes the connection');
        const h = await conn();
        h.write('GET /' + 'a'.repeat(20000));
        assert.equal((await h.reply())!.status, 414);
        assert.ok(await h.waitClosed(), 'closed after 414');
        const h2 = await conn();
        h2.write('GET /announce HTTP/1.1\r\n' + 'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(400));
        assert.equal((await h2.reply())!.status, 431);
        const p = await conn();
        p.write('POST /announce HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc' + get('/nowhere'));
        assert.equal((await p.reply())!.status, 405);
        assert.equal((await p.reply())!.status, 404, 'the connection goes on after 405 and its body');
        assert.equal(stats.httpBadRequests - bad0, 3, 'three bad requests counted');
      });

      test('health checks: /healthz, and /readyz that follows readiness', async () => {
        const c = await conn();
        c.write(get('/healthz') + get('/readyz'));
        assert.equal((await c.reply())!.body.toString(), 'ok');
        assert.equal((await c.reply())!.status, 200);
        ready = false;
        c.write(get('/readyz'));
        const r = (await c.reply())!;
        ready = true;
        assert.equal(r.status, 503);
        assert.equal(r.body.toString(), 'not ready');
      });

      test('bad query: a bencoded failure reason with status 200', async () => {
        const c = await conn();
        c.write(get(`/${PASSKEY}/announce?info_hash=short&port=1`));
        const r = (await c.reply())!;
        assert.equal(r.status, 200);
        assert.match(r.body.toString('latin1'), /failure reason/);
      });

      test('scrape answers every hash asked', async () => {
        const c = await conn();
        const hashes = [randomBytes(20), randomBytes(20), randomBytes(20)];
        c.write(get(`/${PASSKEY}/scrape?` + hashes.map((h) => `info_hash=${percentEncodeAll(h)}`).join('&')));
        const d = bdecodeDict((await c.reply())!.body);
        assert.equal(Object.keys(d['files'] as object).length, 3);
      });

      test('many connections at once: every one answered, every one counted', async () => {
        const n = 300;
        const c0 = stats.httpConnections;
        const cs = await Promise.all(Array.from({ length: n }, () => conn()));
        for (const [i, c] of cs.entries()) c.write(get(announcePath(10_000 + i)));
        const got = await Promise.all(cs.map(async (c) => dictInt(bdecodeDict((await c.reply())!.body), 'complete')));
        assert.deepEqual(got, Array.from({ length: n }, (_, i) => 10_000 + i));
        assert.equal(stats.httpConnections - c0, n);
        for (const c of cs) c.end();
      });

      test('IPv6: the service gets the 16-byte address', async () => {
        const stub = stubService({ async: asyncStore, npeers: 1 });
        const t = createHttpTracker(
          { service: stub.service, stats: new TrackerStats(), log: silentLogger(), ipPolicy: makeIpPolicy([], false), maxScrapeHashes: 8, keepAliveTimeoutMs: 10_000, maxConnections: 10 },
          io,
        );
        const p6 = await t.listen('::1', 0);
        try {
          const c = await conn('::1', p6);
          c.write(get(announcePath(6001)));
          assert.equal((await c.reply())!.status, 200);
          assert.deepEqual(stub.seen.map((s) => s.ip), ['0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1']);
        } finally {
          await t.close();
        }
      });
    });
  }
}

for (const io of ['net', 'native'] as const) {
  describe(`HTTP tracker limits, io=${io}`, { skip: io === 'native' && !haveNative ? 'native addon not built' : false }, () => {
    const make = (o: { maxConnections?: number; keepAliveTimeoutMs?: number; npeers?: number; async?: boolean; delayMs?: number }) =>
      createHttpTracker(
        {
          service: stubService({ async: o.async ?? false, npeers: o.npeers ?? 1, delayMs: o.delayMs ?? 2 }).service,
          stats: new TrackerStats(),
          log: silentLogger(),
          ipPolicy: makeIpPolicy([], false),
          maxScrapeHashes: 8,
          keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? 10_000,
          maxConnections: o.maxConnections ?? 100,
        },
        io,
      );

    test('idle connections are closed after the keep-alive timeout, busy ones are not', async () => {
      const t = make({ keepAliveTimeoutMs: 300 });
      const port = await t.listen('127.0.0.1', 0);
      try {
        const idle = await Conn.open(port);
        const busy = await Conn.open(port);
        const started = Date.now();
        // the busy one announces every 100 ms for 900 ms
        while (Date.now() - started < 900) {
          busy.write(get(announcePath(1)));
          assert.equal((await busy.reply())!.status, 200);
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(idle.closed, 'the idle connection was closed');
        assert.equal(busy.closed, false, 'the busy connection is open');
        busy.end();
      } finally {
        await t.close();
      }
    });

    test('beyond the connection limit, new connections are closed at once', async () => {
      const t = make({ maxConnections: 2 });
      const port = await t.listen('127.0.0.1', 0);
      try {
        const a = await Conn.open(port);
        const b = await Conn.open(port);
        a.write(get(announcePath(1)));
        b.write(get(announcePath(2)));
        assert.equal((await a.reply())!.status, 200);
        assert.equal((await b.reply())!.status, 200);
        const c = await Conn.open(port);
        c.write(get(announcePath(3)));
        assert.equal(await c.reply(), null, 'the third connection is closed without an answer');
        a.end();
        await new Promise((r) => setTimeout(r, 100));
        const d = await Conn.open(port);
        d.write(get(announcePath(4)));
        assert.equal((await d.reply())!.status, 200, 'room again once one closes');
        b.end();
        d.end();
      } finally {
        await t.close();
      }
    });

    test('a client that does not read: its answers wait, then arrive whole and in order', async () => {
      const t = make({ npeers: 2000 }); // answers of about 12 kB
      const port = await t.listen('127.0.0.1', 0);
      try {
        const c = await Conn.open(port);
        c.sock.pause();
        const n = 800; // about 9.6 MB of answers, more than the socket buffers take
        let batch = '';
        for (let i = 0; i < n; i++) batch += get(announcePath(1 + i));
        c.write(batch);
        await new Promise((r) => setTimeout(r, 500));
        c.sock.resume();
        for (let i = 0; i < n; i++) {
          const r = await c.reply(10_000);
          assert.ok(r !== null, `answer ${i} arrived`);
          const d = bdecodeDict(r.body);
          assert.equal(dictInt(d, 'complete'), 1 + i, `answer ${i} in order`);
          assert.equal((d['peers'] as Buffer).length, 12_000, `answer ${i} whole`);
        }
        c.end();
      } finally {
        await t.close();
      }
    });

    test('an answer larger than the native output area is sent whole', async () => {
      const t = make({ npeers: 120_000 }); // 720,000 bytes of compact peers
      const port = await t.listen('127.0.0.1', 0);
      try {
        const c = await Conn.open(port);
        c.write(get(announcePath(1)) + get('/healthz'));
        const r = (await c.reply(10_000))!;
        assert.equal((bdecodeDict(r.body)['peers'] as Buffer).length, 720_000);
        assert.equal((await c.reply())!.body.toString(), 'ok', 'and the next answer after it');
        c.end();
      } finally {
        await t.close();
      }
    });

    test('a connection closed while its answer is pending: nothing breaks, others are served', async () => {
      const t = make({ async: true, delayMs: 100 });
      const port = await t.listen('127.0.0.1', 0);
      try {
        const gone = await Conn.open(port);
        gone.write(get(announcePath(1)) + get(announcePath(2)));
        await new Promise((r) => setTimeout(r, 20));
        gone.end();
        await new Promise((r) => setTimeout(r, 250));
        const c = await Conn.open(port);
        c.write(get(announcePath(3)));
        assert.equal(dictInt(bdecodeDict((await c.reply())!.body), 'complete'), 3);
        c.end();
      } finally {
        await t.close();
      }
    });

    test('a client that keeps sending while its answer is awaited is disconnected', async () => {
      const t = make({ async: true, delayMs: 300 });
      const port = await t.listen('127.0.0.1', 0);
      try {
        const c = await Conn.open(port);
        c.write(get(announcePath(1)));
        await new Promise((r) => setTimeout(r, 50));
        c.write(get(announcePath(2)).repeat(700)); // about 120 kB while the first answer waits
        assert.ok(await c.waitClosed(), 'disconnected');
        const ok = await Conn.open(port);
        ok.write(get(announcePath(3)) + get(announcePath(4)));
        assert.equal(dictInt(bdecodeDict((await ok.reply())!.body), 'complete'), 3);
        assert.equal(dictInt(bdecodeDict((await ok.reply())!.body), 'complete'), 4, 'a few pipelined requests are fine');
        ok.end();
      } finally {
        await t.close();
      }
    });

    test('close() releases the port at once', async () => {
      const t = make({});
      const port = await t.listen('127.0.0.1', 0);
      const c = await Conn.open(port);
      await t.close();
      assert.ok(await c.waitClosed(), 'open connections are closed');
      const again = make({});
      assert.equal(await again.listen('127.0.0.1', port), port);
      await again.close();
    });
  });
}

test('tracker.http_io = native without the addon is refused; auto picks what loads', () => {
  const o = {
    service: stubService({ async: false, npeers: 0 }).service,
    stats: new TrackerStats(),
    log: silentLogger(),
    ipPolicy: makeIpPolicy([], false),
    maxScrapeHashes: 8,
    keepAliveTimeoutMs: 1000,
    maxConnections: 10,
  };
  assert.equal(createHttpTracker(o, 'auto').io, haveNative ? 'native' : 'net');
  assert.equal(createHttpTracker(o, 'net').io, 'net');
  if (!haveNative) assert.throws(() => createHttpTracker(o, 'native'), /native addon/);
});
