/**
 * Two tracker nodes in this process on one Redis store (public mode, PostgreSQL for the rest):
 * a peer announcing to node A and a peer announcing to node B see each other, over HTTP and over
 * UDP, and a UDP connection id issued by node A is accepted by node B (the nodes derive the
 * connection-id key from the site's shared secret, so a UDP load balancer needs no affinity).
 *
 * Also: a web node's changes (a new member and torrent, a rotated passkey) reach a tracker node
 * through the change bus.
 *
 * Runs when ESSAIM_TEST_PG_URL and ESSAIM_TEST_REDIS_URL are set (`npm run test:pg`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { createEssaim, type Essaim, type Listening } from '../../src/compose.js';
import { registerTorrent } from '../../src/db/torrent.repository.js';
import { createUser, rotatePasskey } from '../../src/db/user.repository.js';
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.js';
import { udpAnnouncePacket, udpConnectPacket, UdpTrackerClient } from '../helpers/announce.js';

const pgUrl = process.env.ESSAIM_TEST_PG_URL;
const redisUrl = process.env.ESSAIM_TEST_REDIS_URL;

describe('two tracker nodes on one Redis store', { skip: pgUrl && redisUrl ? false : 'needs ESSAIM_TEST_PG_URL and ESSAIM_TEST_REDIS_URL' }, () => {
  let testSchema: TestSchema;
  const prefix = `essaim-tn-${randomBytes(4).toString('hex')}:`;
  const nodes: Essaim[] = [];
  const listening: Listening[] = [];
  const dirs: string[] = [];

  before(async () => {
    testSchema = await createTestSchema(pgUrl!, 'tn');
    const dbUrl = testSchema.url;
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'essaim-tn-'));
      dirs.push(dataDir);
      const config = loadConfig({
        env: {},
        overrides: {
          server: { data_dir: dataDir },
          database: { url: dbUrl, pool_size: 2 },
          redis: { url: redisUrl, key_prefix: prefix },
          metrics: { enabled: false },
          tracker: { mode: 'public', store: 'redis', http_port: 0, udp_port: 0, udp_host6: '' },
          log: { level: 'warn' },
        } as never,
      });
      const node = createEssaim(config, { web: false, tracker: true });
      listening.push(await node.start());
      nodes.push(node);
    }
  });

  after(async () => {
    for (const n of nodes) await n.stop();
    await testSchema?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const infoHash = randomBytes(20);
  const peerId = (n: number) => Buffer.from(`-ES0100-${String(n).padStart(12, '0')}`);

  it('lets peers on different nodes see each other over HTTP', async () => {
    const q = (n: number, left: number) =>
      `?info_hash=${[...infoHash].map((b) => '%' + b.toString(16).padStart(2, '0')).join('')}&peer_id=${peerId(n).toString('latin1')}&port=${7000 + n}&uploaded=0&downloaded=0&left=${left}&compact=1&event=started`;
    const a = await fetch(`${listening[0]!.httpTracker}/announce${q(1, 0)}`);
    assert.equal(a.status, 200);
    await a.arrayBuffer();
    const b = Buffer.from(await (await fetch(`${listening[1]!.httpTracker}/announce${q(2, 100)}`)).arrayBuffer()).toString('latin1');
    assert.ok(!b.includes('failure reason'), b);
    assert.match(b, /8:completei1e/, 'node B counts the seeder that announced to node A');
    assert.match(b, /5:peers6:/, 'node B returns node A’s peer');
  });

  it('accepts on node B a UDP connection id issued by node A', async () => {
    const [hostA, portA] = udpTarget(listening[0]!);
    const [hostB, portB] = udpTarget(listening[1]!);
    const ca = await UdpTrackerClient.open(hostA, portA);
    const cb = await UdpTrackerClient.open(hostB, portB);
    try {
      const conn = await ca.request(udpConnectPacket(11), 11);
      assert.equal(conn.action, 'connect');
      if (conn.action !== 'connect') return;
      const r = await cb.request(udpAnnouncePacket({ connectionId: conn.connectionId, transactionId: 12, infoHash, peerId: peerId(3), downloaded: 0, left: 50, uploaded: 0, event: 'started', port: 7003 }), 12);
      assert.equal(r.action, 'announce', `node B answered ${r.action}`);
      if (r.action === 'announce') assert.ok(r.seeders >= 1, `node B sees the seeder of node A (seeders ${r.seeders})`);
    } finally {
      await ca.close();
      await cb.close();
    }
  });
});

function udpTarget(l: Listening): [string, number] {
  const u = new URL(l.udpTracker![0]!);
  return [u.hostname, Number(u.port)];
}

/**
 * A web node and a tracker node (private mode, the tracker's periodic reload an hour away): a
 * member and a torrent made on the web node are known to the tracker node within seconds, through
 * the change bus; a passkey rotated on the web node is refused there at once.
 */
describe('changes from a web node reach a tracker node', { skip: pgUrl && redisUrl ? false : 'needs ESSAIM_TEST_PG_URL and ESSAIM_TEST_REDIS_URL' }, () => {
  const prefix = `essaim-tc-${randomBytes(4).toString('hex')}:`;
  let testSchema: TestSchema;
  let web: Essaim;
  let tracker: Essaim;
  let trackerUrl = '';
  const dirs: string[] = [];

  before(async () => {
    testSchema = await createTestSchema(pgUrl!, 'tc');
    const make = (roles: { web: boolean; tracker: boolean }) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'essaim-tc-'));
      dirs.push(dataDir);
      const config = loadConfig({
        env: {},
        overrides: {
          server: { data_dir: dataDir },
          web: { port: 0 },
          database: { url: testSchema.url, pool_size: 2 },
          redis: { url: redisUrl, key_prefix: prefix },
          metrics: { enabled: false },
          tracker: { mode: 'private', store: 'redis', http_port: 0, udp_enabled: false, access_refresh_interval: 3600 },
          joining: { verify_email: false },
          log: { level: 'warn' },
        } as never,
      });
      return createEssaim(config, roles);
    };
    web = make({ web: true, tracker: false });
    await web.start();
    tracker = make({ web: false, tracker: true });
    trackerUrl = (await tracker.start()).httpTracker!;
  });

  after(async () => {
    await tracker?.stop();
    await web?.stop();
    await testSchema?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const announce = async (passkey: string, infoHash: Buffer): Promise<string> => {
    const pct = (b: Buffer) => [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('');
    const q = `?info_hash=${pct(infoHash)}&peer_id=${pct(randomBytes(20))}&port=7100&uploaded=0&downloaded=0&left=10&compact=1&event=started`;
    return Buffer.from(await (await fetch(`${trackerUrl}/${passkey}/announce${q}`)).arrayBuffer()).toString('latin1');
  };
  const eventually = async (what: string, ok: () => Promise<boolean>): Promise<void> => {
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`within 5 s: ${what}`);
  };

  it('a new member and torrent, then a rotated passkey', async () => {
    const db = web.db();
    const now = Math.floor(Date.now() / 1000);
    const infoHash = randomBytes(20);
    const user = await createUser(db, { username: 'bus-member', now });
    const torrent = await registerTorrent(db, { name: 'bus torrent', infoHashV1: infoHash.toString('hex'), now });
    // Unknown to the tracker node until the web node says so.
    assert.match(await announce(user.passkey, infoHash), /failure reason/);
    await web.site().tracker.userChanged(user.id);
    await web.site().tracker.torrentChanged(torrent.id);
    await eventually('the tracker node accepts the new member on the new torrent', async () => !(await announce(user.passkey, infoHash)).includes('failure reason'));
    const fresh = await rotatePasskey(db, user.id, now);
    await web.site().tracker.userChanged(user.id, user.passkey);
    await eventually('the old passkey is refused', async () => (await announce(user.passkey, infoHash)).includes('failure reason'));
    await eventually('the new passkey is accepted', async () => !(await announce(fresh, infoHash)).includes('failure reason'));
  });
});
