/**
 * The proof of #6 on this machine: PostgreSQL and Redis (the servers running on loopback), two
 * web nodes (`essaim web`) and two tracker nodes (`essaim tracker`, swarms in Redis), each its own
 * process. A seeder announces to tracker node 1 and a leecher to tracker node 2 (each through a
 * recording proxy, which plays the load balancer); they see each other and a real aria2 transfer
 * completes, byte-identical. Mid-transfer, tracker node 1 is killed with SIGKILL and the seeder's
 * announces move to node 2, which keeps serving. In the end the credited totals in PostgreSQL
 * equal exactly what the clients reported: nothing lost with the killed node, nothing counted
 * twice. Both web nodes serve the site and the torrent's page.
 *
 * Runs when ESSAIM_TEST_PG_URL and ESSAIM_TEST_REDIS_URL are set (`npm run test:pg`) and aria2c
 * and mktorrent are installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database.js';
import { Aria2, makePayload, makeTorrent, requireBinaries, tempDir } from '../helpers/clients.js';
import { Essaim, essaimUnavailable } from '../helpers/essaim.js';
import { formatRecords, HttpAnnounceProxy, reportedTotals, type AnnounceRecord } from '../helpers/announce.js';
import { waitFor } from '../helpers/process.js';
import { createTestSchema } from '../helpers/pg-schema.js';

const pgUrl = process.env.ESSAIM_TEST_PG_URL;
const redisUrl = process.env.ESSAIM_TEST_REDIS_URL;
// Large enough that the seeder's upload limit stretches the transfer over several announces.
const PAYLOAD_BYTES = 6 * 1024 * 1024 + 4321;
const UPLOAD_LIMIT = '400K';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

test('two web nodes and two tracker nodes on PostgreSQL and Redis; a tracker node killed mid-transfer loses no credit', { timeout: 300_000, skip: pgUrl && redisUrl ? false : 'needs ESSAIM_TEST_PG_URL and ESSAIM_TEST_REDIS_URL' }, async (t) => {
  if (!requireBinaries(t, 'aria2c', 'mktorrent')) return;
  const why = essaimUnavailable();
  if (why) return t.skip(why);

  // A schema of its own in the test database, and a Redis key prefix of its own.
  const testSchema = await createTestSchema(pgUrl!, 'cluster');
  t.after(() => testSchema.drop());
  const dbUrl = testSchema.url;
  const prefix = `essaim-cluster-${randomBytes(4).toString('hex')}:`;
  const shared = {
    ESSAIM_DATABASE__URL: dbUrl,
    ESSAIM_DATABASE__POOL_SIZE: '4',
    ESSAIM_REDIS__URL: redisUrl!,
    ESSAIM_REDIS__KEY_PREFIX: prefix,
    ESSAIM_TRACKER__STORE: 'redis',
    ESSAIM_TRACKER__UDP_ENABLED: 'false',
    ESSAIM_TRACKER__ACCESS_REFRESH_INTERVAL: '1',
    ESSAIM_METRICS__ENABLED: 'false',
    ESSAIM_JOINING__VERIFY_EMAIL: 'false',
    ESSAIM_LOG__LEVEL: 'warn',
  };
  const trackers = [await Essaim.create(t, { command: 'tracker', interval: 2, minInterval: 1, env: shared }), await Essaim.create(t, { command: 'tracker', interval: 2, minInterval: 1, env: shared })];
  const webs = [
    await Essaim.create(t, { command: 'web', env: { ...shared, ESSAIM_TRACKER__ANNOUNCE_BASE_URL: trackers[0]!.httpAnnounceUrl().replace(/\/announce$/, '') } }),
    await Essaim.create(t, { command: 'web', env: { ...shared, ESSAIM_TRACKER__ANNOUNCE_BASE_URL: trackers[0]!.httpAnnounceUrl().replace(/\/announce$/, '') } }),
  ];
  const cli = webs[0]!;
  await cli.migrate();
  const seederPk = (await cli.createUser('seeder')).passkey;
  const leecherPk = (await cli.createUser('leecher')).passkey;

  const root = await tempDir(t, 'essaim-cluster-');
  const payload = await makePayload(join(root, 'seed'), PAYLOAD_BYTES, 'cluster.bin');
  const base = await makeTorrent(payload, 'http://127.0.0.1:1/announce', join(root, 'base.torrent'));
  const reg = await cli.registerTorrent(base.path, 'cluster');
  assert.ok(reg.infoHashes.includes(base.infoHash), `registered: ${JSON.stringify(reg)}`);

  for (const n of [...trackers, ...webs]) await n.start(60_000);
  const output = () => [...trackers, ...webs].map((n) => n.output()).join('\n----\n');

  // Both web nodes serve the torrent's page (one database).
  for (const w of webs) {
    const res = await fetch(`http://127.0.0.1:${w.webPort}/t/${reg.id}`, { redirect: 'manual' });
    assert.ok(res.status === 301 || res.status === 302 || res.status === 200 || res.status === 303, `web node ${w.webPort} answers /t/${reg.id}: ${res.status}`);
    await res.arrayBuffer();
  }

  // The load balancer: the seeder goes to tracker node 1, the leecher to tracker node 2.
  const records: AnnounceRecord[] = [];
  const seederLb = await HttpAnnounceProxy.start('127.0.0.1', trackers[0]!.httpPort, { label: 'seeder', records });
  const leecherLb = await HttpAnnounceProxy.start('127.0.0.1', trackers[1]!.httpPort, { label: 'leecher', records });
  t.after(() => seederLb.close());
  t.after(() => leecherLb.close());
  const seedTorrent = await makeTorrent(payload, seederLb.url(`/${seederPk}/announce`), join(root, 'seeder.torrent'));
  const leechTorrent = await makeTorrent(payload, leecherLb.url(`/${leecherPk}/announce`), join(root, 'leecher.torrent'));
  assert.equal(seedTorrent.infoHash, base.infoHash);
  assert.equal(leechTorrent.infoHash, base.infoHash);

  // The trackers learn the torrent within an access refresh.
  await waitFor('tracker nodes to know the torrent', async () => {
    for (const tr of trackers) {
      const r = await fetch(`${tr.httpAnnounceUrl(seederPk).replace('/announce', '/scrape')}?info_hash=${base.infoHash.replace(/../g, '%$&')}`);
      const body = Buffer.from(await r.arrayBuffer()).toString('latin1');
      if (body.includes('failure reason')) return false;
    }
    return true;
  }, { timeoutMs: 20_000, everyMs: 200 });

  const diag = () => `announces:\n${formatRecords(records)}\n${output()}`;
  const seeder = await Aria2.start({ name: 'seeder', torrent: seedTorrent.path, dir: join(root, 'seed'), seed: true, extraArgs: [`--max-overall-upload-limit=${UPLOAD_LIMIT}`] });
  t.after(() => seeder.kill());
  const leecher = await Aria2.start({ name: 'leecher', torrent: leechTorrent.path, dir: join(root, 'leech'), seed: false });
  t.after(() => leecher.kill());

  // Mid-transfer: once the seeder has reported some upload to node 1, kill node 1 (SIGKILL) and
  // send the seeder's next announces to node 2.
  try {
    await waitFor('the seeder to report an upload to tracker node 1', () => records.some((r) => r.label === 'seeder' && r.ok === true && Number(r.uploaded) > 0), { timeoutMs: 60_000, everyMs: 100 });
  } catch (e) {
    assert.fail(`${(e as Error).message}\n${diag()}`);
  }
  const killIndex = records.length;
  const killed = await trackers[0]!.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL', 'tracker node 1 was killed');
  seederLb.retarget('127.0.0.1', trackers[1]!.httpPort);

  try {
    await leecher.waitComplete(120_000);
  } catch (e) {
    assert.fail(`${(e as Error).message}\n${diag()}`);
  }
  const got = await readFile(join(root, 'leech', 'cluster.bin'));
  assert.equal(sha1(got), sha1(await readFile(payload)), 'the download is byte-identical');
  // Graceful stops: each client's last announce (event=stopped, through node 2) carries its final counters.
  await leecher.shutdown();
  await seeder.shutdown();
  await waitFor('both stopped announces answered', () => ['seeder', 'leecher'].every((m) => records.some((r) => r.label === m && r.event === 'stopped' && r.ok !== null)), { timeoutMs: 30_000, everyMs: 100 }).catch(() => undefined);
  const afterKill = records.slice(killIndex);
  assert.ok(afterKill.some((r) => r.label === 'seeder' && r.event === 'stopped' && r.ok === true), `node 2 answered the seeder after node 1 died\n${diag()}`);
  assert.ok(afterKill.every((r) => r.ok !== false), `no announce refused after the kill\n${diag()}`);

  const expected = {
    seeder: { uploaded: reportedTotals(records, 'seeder').uploaded, downloaded: reportedTotals(records, 'seeder').downloaded },
    leecher: { uploaded: reportedTotals(records, 'leecher').uploaded, downloaded: reportedTotals(records, 'leecher').downloaded },
  };
  assert.ok(expected.seeder.uploaded >= PAYLOAD_BYTES, `the seeder reported its upload: ${JSON.stringify(expected)}`);
  const db = await openDatabase(dbUrl, { dataDir: tmpdir(), poolSize: 1 });
  t.after(() => db.close());
  const credited = async () => {
    const rows = await db.db.selectFrom('user').select(['username', 'uploaded', 'downloaded']).where('username', 'in', ['seeder', 'leecher']).execute();
    const by = Object.fromEntries(rows.map((r) => [r.username, { uploaded: Number(r.uploaded), downloaded: Number(r.downloaded) }]));
    return { seeder: by.seeder, leecher: by.leecher };
  };
  // The killed node may have held the drain's lease: another node takes it once it expires.
  await waitFor('PostgreSQL totals to equal the reported counters', async () => JSON.stringify(await credited()) === JSON.stringify(expected), { timeoutMs: 60_000, everyMs: 250 }).catch(() => undefined);
  assert.deepEqual(await credited(), expected, `credited exactly once\n${diag()}`);
});
