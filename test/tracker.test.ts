/**
 * The tracker in process, over real sockets on loopback: HTTP and UDP front ends, the access
 * cache fed from the database, the ledger flushed to the database, metrics.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { loadConfig } from '../src/config/index.js';
import { createEssaim, type Essaim, type Listening } from '../src/compose.js';
import { createUser, getUserTraffic, rotatePasskey, setUserEnabled } from '../src/db/user.repository.js';
import { listUserTrafficHours, trafficHour } from '../src/db/ledger.repository.js';
import { deleteTorrent, registerTorrent, setTorrentFactors } from '../src/db/torrent.repository.js';
import { addClientRule } from '../src/db/client-rule.repository.js';
import { silentLogger } from '../src/shared/log.js';
import { loadUdpBatch } from '../src/tracker/udp-batch-io.js';
import { httpAnnounce, httpGetRaw, percentEncodeAll, UdpTrackerClient, type AnnounceParams } from './helpers/announce.js';
import { dictInt } from './helpers/bencode.js';

const hash = (c: string) => Buffer.from(c.repeat(40), 'hex');
const H_A = hash('a');
const H_V1 = hash('b');
const H_V2_FULL = 'c'.repeat(64);
const H_V2 = Buffer.from(H_V2_FULL.slice(0, 40), 'hex');
const H_DEL = hash('d');
const now = () => Math.floor(Date.now() / 1000);

function peer(n: number, client = '-TR3000-'): Buffer {
  return Buffer.from(client + String(n).padStart(20 - client.length, '0'));
}

// The whole conversation over both HTTP carriers (tracker.http_io): the native front and node:net.
const haveNativeHttp = typeof loadUdpBatch()?.httpOpen === 'function';
for (const httpIo of ['native', 'net'] as const) {
  describe(`tracker over loopback (private mode, http_io=${httpIo})`, { skip: httpIo === 'native' && !haveNativeHttp ? 'native addon not built' : false }, () => {
    let app: Essaim;
    let l: Listening;
    let dir: string;
    let alice: { id: number; passkey: string };
    let bob: { id: number; passkey: string };
    let torrentA: number;
    let hybrid: number;
    let httpPort: number;
    let udpPort: number;
    const announceUrl = (pk: string) => `http://127.0.0.1:${httpPort}/${pk}/announce`;
    const member = async (name: string) => {
      const m = await createUser(app.db(), { username: name, now: now() });
      await app.refresh();
      return m;
    };
    const base = (over: Partial<AnnounceParams> = {}): AnnounceParams => ({ infoHash: H_A, peerId: peer(1), port: 6881, uploaded: 0, downloaded: 0, left: 1000, ...over });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'essaim-tracker-'));
      const config = loadConfig({
        env: {},
        overrides: {
          server: { data_dir: dir },
          web: { port: 0 },
          metrics: { port: 0 },
          tracker: { http_port: 0, udp_port: 0, udp_host6: '::1', max_peers_per_user: 2, full_scrape: false, http_io: httpIo },
          ledger: { flush_interval: 3600 },
        },
      });
      app = createEssaim(config, { log: silentLogger() });
      l = await app.start();
      httpPort = Number(new URL(l.httpTracker!).port);
      udpPort = Number(l.udpTracker![0]!.split(':').pop());
      const db = app.db();
      alice = await createUser(db, { username: 'alice', now: now() });
      bob = await createUser(db, { username: 'bob', now: now() });
      torrentA = (await registerTorrent(db, { name: 'A', infoHashV1: H_A.toString('hex'), now: now() })).id;
      hybrid = (await registerTorrent(db, { name: 'hybrid', infoHashV1: H_V1.toString('hex'), infoHashV2: H_V2_FULL, now: now() })).id;
      const del = await registerTorrent(db, { name: 'gone', infoHashV1: H_DEL.toString('hex'), now: now() });
      await deleteTorrent(db, del.id, 'duplicate of another upload', now());
      await app.refresh();
    });
    after(async () => {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints usable URLs', () => {
      assert.match(l.httpTracker!, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(l.udpTracker!.length, 2, 'an IPv4 and an IPv6 socket');
      assert.match(l.udpTracker![1]!, /^udp:\/\/\[::1\]:\d+$/);
    });

    it('swarm: leechers get seeders, seeders get leechers only, compact and dictionary models', async () => {
      const seed = await httpAnnounce(announceUrl(alice.passkey), base({ peerId: peer(10), port: 7001, left: 0, event: 'started' }));
      assert.equal(seed.failure, null);
      const leech = await httpAnnounce(announceUrl(bob.passkey), base({ peerId: peer(20), port: 7002, event: 'started' }));
      assert.equal(dictInt(leech.dict!, 'complete'), 1);
      assert.equal(dictInt(leech.dict!, 'incomplete'), 1);
      assert.deepEqual([...(leech.dict!['peers'] as Buffer)], [127, 0, 0, 1, 7001 >> 8, 7001 & 0xff]);
      const leech2 = await httpAnnounce(announceUrl(bob.passkey), base({ peerId: peer(21), port: 7003, event: 'started' }));
      assert.equal((leech2.dict!['peers'] as Buffer).length, 12, 'a leecher gets the seeder and the other leecher');
      const seedAgain = await httpAnnounce(announceUrl(alice.passkey), base({ peerId: peer(10), port: 7001, left: 0 }));
      const ports = [];
      const p = seedAgain.dict!['peers'] as Buffer;
      for (let i = 0; i < p.length; i += 6) ports.push(p.readUInt16BE(i + 4));
      assert.deepEqual(ports.sort(), [7002, 7003], 'the seeder gets the leechers only');
      const interval = dictInt(seedAgain.dict!, 'interval')!;
      assert.ok(interval >= 1620 && interval <= 1980, `interval ${interval} within the jitter`);
      assert.equal(dictInt(seedAgain.dict!, 'min interval'), 300);

      const u = new URL(announceUrl(bob.passkey));
      const q = `info_hash=${percentEncodeAll(H_A)}&peer_id=${percentEncodeAll(peer(20))}&port=7002&uploaded=0&downloaded=0&left=1000&compact=0`;
      const dict = await httpGetRaw('127.0.0.1', httpPort, `${u.pathname}?${q}`);
      const peers = dict.dict!['peers'] as unknown as Array<Record<string, unknown>>;
      assert.ok(Array.isArray(peers), 'Array.isArray(peers)');
      const s = peers.find((x) => Number(x['port']) === 7001)!;
      assert.equal(String(s['ip']), '127.0.0.1');
      assert.deepEqual(s['peer id'], peer(10));
      const noId = await httpGetRaw('127.0.0.1', httpPort, `${u.pathname}?${q}&no_peer_id=1`);
      assert.equal((noId.dict!['peers'] as unknown as Array<Record<string, unknown>>).some((x) => 'peer id' in x), false);
      // clean up
      for (const [pk, n, port] of [[alice.passkey, 10, 7001], [bob.passkey, 20, 7002], [bob.passkey, 21, 7003]] as const) {
        await httpAnnounce(announceUrl(pk), base({ peerId: peer(n), port, event: 'stopped' }));
      }
    });

    it('refuses with a failure reason that names the problem', async () => {
      const f = async (url: string, p: Partial<AnnounceParams> = {}) => (await httpAnnounce(url, base(p))).failure;
      assert.match((await f(`http://127.0.0.1:${httpPort}/announce`))!, /^Passkey required/);
      assert.match((await f(announceUrl('0'.repeat(32))))!, /^Unknown passkey/);
      assert.match((await f(announceUrl('not-a-passkey-at-all-but-32-char')))!, /^Unknown passkey/);
      assert.equal(await f(announceUrl(alice.passkey), { infoHash: hash('e') }), 'Unregistered torrent');
      assert.equal(await f(announceUrl(alice.passkey), { infoHash: H_DEL }), 'Unregistered torrent: duplicate of another upload');
      const r = await httpGetRaw('127.0.0.1', httpPort, `/${alice.passkey}/announce?info_hash=%zz&peer_id=x`);
      assert.equal(r.status, 200);
      assert.ok(r.failure && r.failure.length > 0, 'r.failure && r.failure.length > 0');
    });

    it('caps the peers of one member on one torrent', async () => {
      for (const n of [31, 32]) assert.equal((await httpAnnounce(announceUrl(alice.passkey), base({ peerId: peer(n) }))).failure, null);
      assert.match((await httpAnnounce(announceUrl(alice.passkey), base({ peerId: peer(33) }))).failure!, /Too many peers/);
      for (const n of [31, 32]) await httpAnnounce(announceUrl(alice.passkey), base({ peerId: peer(n), event: 'stopped' }));
    });

    it('changes in the database reach the tracker without a restart', async () => {
      const db = app.db();
      const carol = await createUser(db, { username: 'carol', now: now() });
      await app.refresh();
      assert.equal((await httpAnnounce(announceUrl(carol.passkey), base({ peerId: peer(40), event: 'started' }))).failure, null);
      const rotated = await rotatePasskey(db, carol.id, now());
      await addClientRule(db, { prefix: '-XX', action: 'deny', note: 'test', now: now() });
      await app.refresh();
      assert.match((await httpAnnounce(announceUrl(carol.passkey), base({ peerId: peer(40) }))).failure!, /^Unknown passkey/);
      assert.equal((await httpAnnounce(announceUrl(rotated), base({ peerId: peer(40) }))).failure, null);
      assert.equal((await httpAnnounce(announceUrl(rotated), base({ peerId: peer(41, '-XX1000-') }))).failure, 'Client not allowed (-XX)');
      await setUserEnabled(db, carol.id, false, 'hit and run', now());
      await app.refresh();
      assert.equal((await httpAnnounce(announceUrl(rotated), base({ peerId: peer(40) }))).failure, 'Account disabled: hit and run');
    });

    it('credits traffic to the database at the flush, with factors, raw figures and per-torrent rows', async () => {
      const db = app.db();
      await setTorrentFactors(db, torrentA, 2, 0.5);
      await app.refresh();
      const before = await getUserTraffic(db, bob.id);
      const url = announceUrl(bob.passkey);
      await httpAnnounce(url, base({ peerId: peer(50), event: 'started' }));
      await httpAnnounce(url, base({ peerId: peer(50), uploaded: 1000, downloaded: 4000 }));
      await httpAnnounce(url, base({ peerId: peer(50), uploaded: 3000, downloaded: 8000, left: 0, event: 'completed' }));
      await httpAnnounce(url, base({ peerId: peer(50), uploaded: 3000, downloaded: 8000, left: 0, event: 'stopped' }));
      assert.ok(app.ledger.depth() > 0, 'app.ledger.depth() > 0');
      assert.equal(await app.flush(), true);
      assert.equal(app.ledger.depth(), 0);
      const after = await getUserTraffic(db, bob.id);
      assert.equal(after.rawUploaded - before.rawUploaded, 3000);
      assert.equal(after.rawDownloaded - before.rawDownloaded, 8000);
      assert.equal(after.uploaded - before.uploaded, 6000);
      assert.equal(after.downloaded - before.downloaded, 4000);
      const t = await db.selectFrom('torrent').select('times_completed').where('id', '=', torrentA).executeTakeFirstOrThrow();
      assert.equal(Number(t.times_completed), 1);
      const base0 = await db.selectFrom('peer_baseline').selectAll().where('user_id', '=', bob.id).execute();
      assert.equal(base0.length, 0, 'a stopped peer leaves no baseline');
      // Bob's credited traffic of this flush is in the hour of his announces.
      const hour = trafficHour(now());
      const hours = await listUserTrafficHours(db, bob.id, hour - 1, hour);
      const sum = hours.reduce((a, h) => [a[0]! + h.uploaded, a[1]! + h.downloaded], [0, 0]);
      assert.deepEqual(sum, [after.uploaded, after.downloaded], 'hourly traffic adds up to the credited totals');
      await setTorrentFactors(db, torrentA, 1, 1);
      await app.refresh();
    });

    it('hybrid torrents: the v1 and the truncated v2 hash are two swarms of one torrent', async () => {
      const url = announceUrl(alice.passkey);
      await httpAnnounce(url, base({ infoHash: H_V1, peerId: peer(60), event: 'started', left: 0 }));
      await httpAnnounce(url, base({ infoHash: H_V2, peerId: peer(61), event: 'started', left: 0 }));
      await httpAnnounce(url, base({ infoHash: H_V1, peerId: peer(60), uploaded: 100, left: 0 }));
      await httpAnnounce(url, base({ infoHash: H_V2, peerId: peer(61), uploaded: 50, left: 0 }));
      await app.flush();
      const row = await app.db().selectFrom('user_torrent').selectAll().where('user_id', '=', alice.id).where('torrent_id', '=', hybrid).executeTakeFirstOrThrow();
      assert.equal(Number(row.raw_uploaded), 150);
    });

    it('scrape: several info hashes, unregistered ones left out, full scrape refused', async () => {
      const dave = await member('dave');
      const before = await httpGetRaw('127.0.0.1', httpPort, `/${dave.passkey}/scrape?info_hash=${percentEncodeAll(H_A)}`);
      const seeders = Number((before.dict!['files'] as unknown as Record<string, Record<string, unknown>>)[H_A.toString('latin1')]!['complete']);
      assert.equal((await httpAnnounce(announceUrl(dave.passkey), base({ peerId: peer(70), left: 0, event: 'started' }))).failure, null);
      const q = [H_A, hash('e'), H_V1].map((h) => `info_hash=${percentEncodeAll(h)}`).join('&');
      const r = await httpGetRaw('127.0.0.1', httpPort, `/${dave.passkey}/scrape?${q}`);
      const files = r.dict!['files'] as unknown as Record<string, Record<string, unknown>>;
      const keys = Object.keys(files).map((k) => Buffer.from(k, 'latin1').toString('hex')).sort();
      assert.deepEqual(keys, [H_A.toString('hex'), H_V1.toString('hex')].sort());
      assert.equal(Number(files[H_A.toString('latin1')]!['complete']), seeders + 1);
      const full = await httpGetRaw('127.0.0.1', httpPort, `/${alice.passkey}/scrape`);
      assert.match(full.failure!, /Full scrape is disabled/);
      const anon = await httpGetRaw('127.0.0.1', httpPort, `/scrape?${q}`);
      assert.match(anon.failure!, /^Passkey required/);
    });

    it('HTTP: keep-alive with pipelined requests, 400 on garbage, 404 elsewhere, process stays up', async () => {
      const erin = await member('erin');
      const q = `info_hash=${percentEncodeAll(H_A)}&peer_id=${percentEncodeAll(peer(80))}&port=1&left=5`;
      const reqs = `GET /${erin.passkey}/announce?${q} HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /${erin.passkey}/announce?${q}&event=stopped HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
      const text = await rawExchange(httpPort, reqs);
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
      assert.deepEqual(statuses, ['200', '404', '200']);
      assert.equal((text.match(/8:interval/g) ?? []).length, 2);
      const bad = await rawExchange(httpPort, 'BLAH\r\n\r\n');
      assert.match(bad, /^HTTP\/1\.1 400/);
      const huge = await rawExchange(httpPort, 'GET /' + 'a'.repeat(20000) + ' HTTP/1.1\r\n\r\n');
      assert.match(huge, /^HTTP\/1\.1 4\d\d/);
      const ok = await httpAnnounce(announceUrl(erin.passkey), base({ peerId: peer(81) }));
      assert.equal(ok.failure, null);
    });

    it('UDP: connect, announce with the passkey in BEP 41 URL data, scrape; bad connection ids dropped', async () => {
      const c = await UdpTrackerClient.open('127.0.0.1', udpPort);
      try {
        const r = await c.announce({ infoHash: H_A, peerId: peer(90), downloaded: 0, left: 0, uploaded: 0, event: 'started', port: 9090, urlData: `/${bob.passkey}/announce` });
        assert.equal(r.action, 'announce');
        const noKey = await c.announce({ infoHash: H_A, peerId: peer(91), downloaded: 0, left: 10, uploaded: 0, port: 9091 });
        assert.ok(noKey.action === 'error' && /^Passkey required/.test(noKey.message), 'noKey.action === \'error\' && /^Passkey required/.test(noKey.message)');
        const unreg = await c.announce({ infoHash: hash('e'), peerId: peer(91), downloaded: 0, left: 10, uploaded: 0, port: 9091, urlData: `/${bob.passkey}/announce` });
        assert.ok(unreg.action === 'error' && unreg.message === 'Unregistered torrent', 'unreg.action === \'error\' && unreg.message === \'Unregistered torrent\'');
        const dropsBefore = app.stats.udpDropped.get('bad_connection_id') ?? 0;
        // a forged connection id: no answer at all
        const sock = createSocket('udp4');
        const forged = Buffer.alloc(98);
        forged.writeBigUInt64BE(0x0123456789abcdefn, 0);
        forged.writeUInt32BE(1, 8);
        H_A.copy(forged, 16);
        const answers: Buffer[] = [];
        sock.on('message', (m) => answers.push(m));
        await new Promise<void>((res) => sock.send(forged, udpPort, '127.0.0.1', () => res()));
        await new Promise<void>((res) => sock.send(Buffer.from('garbage'), udpPort, '127.0.0.1', () => res()));
        await new Promise((res) => setTimeout(res, 300));
        sock.close();
        assert.equal(answers.length, 0);
        assert.equal(app.stats.udpDropped.get('bad_connection_id'), dropsBefore + 1);
        // and valid traffic still flows
        const again = await c.announce({ infoHash: H_A, peerId: peer(90), downloaded: 0, left: 0, uploaded: 10, port: 9090, urlData: `/${bob.passkey}/announce` });
        assert.equal(again.action, 'announce');
      } finally {
        await c.close();
      }
    });

    it('exposes Prometheus metrics', async () => {
      const res = await fetch(l.metrics!);
      const text = await res.text();
      assert.match(text, /essaim_tracker_announces_total\{transport="http",result="ok"\} \d+/);
      assert.match(text, /essaim_tracker_announces_total\{transport="http",result="unknown_passkey"\} \d+/);
      assert.match(text, /essaim_tracker_udp_dropped_total\{reason="bad_connection_id"\} \d+/);
      assert.match(text, /essaim_tracker_peers \d+/);
      assert.match(text, /essaim_ledger_queue_depth \d+/);
      assert.match(text, /essaim_ledger_flush_duration_seconds_count\{result="ok"\} \d+/);
      assert.ok(!text.includes(alice.passkey), '!text.includes(alice.passkey)');
    });
  });
}

function rawExchange(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, 2000);
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.write(data);
  });
}
