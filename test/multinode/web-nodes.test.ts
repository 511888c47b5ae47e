/**
 * Two web nodes on one PostgreSQL database and one Redis server, in this process: a member logs
 * in on one node and goes on on the other (sessions and CSRF secret shared); an edit on one node
 * reaches the other's caches at once (change bus); failed logins count on both nodes (shared
 * limits); the site-wide jobs have one holder.
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
import { createEssaim, type Essaim } from '../../src/compose.js';
import { createUser } from '../../src/db/user.repository.js';
import { hashPassword } from '../../src/site/passwords.js';
import { invalidateCatalogue, loadCatalogue } from '../../src/site/catalogue/catalogue.js';
import { Browser } from '../helpers/site.js';
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.js';

const pgUrl = process.env.ESSAIM_TEST_PG_URL;
const redisUrl = process.env.ESSAIM_TEST_REDIS_URL;

async function until(what: string, fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('two web nodes', { skip: pgUrl && redisUrl ? false : 'needs ESSAIM_TEST_PG_URL and ESSAIM_TEST_REDIS_URL' }, () => {
  let testSchema: TestSchema;
  const prefix = `essaim-mn-${randomBytes(4).toString('hex')}:`;
  const dirs: string[] = [];
  const nodes: Essaim[] = [];
  const bases: string[] = [];
  let dbUrl = '';

  before(async () => {
    testSchema = await createTestSchema(pgUrl!, 'mn');
    dbUrl = testSchema.url;
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'essaim-mn-'));
      dirs.push(dataDir);
      const config = loadConfig({
        env: {},
        overrides: {
          server: { data_dir: dataDir },
          web: { port: 0, login_attempts: 3 },
          database: { url: dbUrl, pool_size: 3 },
          redis: { url: redisUrl, key_prefix: prefix },
          metrics: { enabled: false },
          tracker: { http_port: 0, udp_port: 0, udp_host6: '', announce_base_url: 'http://127.0.0.1:6969' },
          joining: { verify_email: false },
          rules: { interval: 10 },
          log: { level: 'warn' },
        } as never,
      });
      // One after the other: the first migrates the schema.
      const node = createEssaim(config, { web: true, tracker: false });
      const l = await node.start();
      nodes.push(node);
      bases.push(l.web!);
    }
    const hash = await hashPassword('a long enough password', 10);
    await createUser(nodes[0]!.db(), { username: 'roamer', email: 'roamer@example.test', passwordHash: hash, now: Math.floor(Date.now() / 1000) });
  });

  after(async () => {
    for (const n of nodes) await n.stop();
    await testSchema?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('keeps a member logged in from one node to the other', async () => {
    const a = new Browser(bases[0]!);
    const login = await a.login('roamer', 'a long enough password');
    assert.ok(login.status < 400, `login on node A: ${login.status}`);
    const b = new Browser(bases[1]!);
    for (const [k, v] of a.cookies) b.cookies.set(k, v);
    const account = await b.get('/account');
    assert.equal(account.status, 200);
    assert.ok(account.text.includes('roamer'), 'node B knows the member');
    // A form posted to node B with the token node A's page gave (one site secret).
    b.csrf = a.csrf;
    const p = await b.post('/account/api', { name: 'from B', scope: 'read', expiry: '0' });
    assert.equal(p.status, 200, 'CSRF token accepted by the other node');
  });

  it('drops the other node’s catalogue cache when one node edits it', async () => {
    const [A, B] = [nodes[0]!.db(), nodes[1]!.db()];
    const cat = await A.selectFrom('category').select(['id', 'name_en']).where('parent_id', 'is not', null).orderBy('id').executeTakeFirstOrThrow();
    const before = await loadCatalogue(B);
    assert.ok(before.subcategories.some((c) => c.name('en') === cat.name_en), 'B has the category cached');
    await A.updateTable('category').set({ name_en: 'Renamed on A' }).where('id', '=', cat.id).execute();
    invalidateCatalogue(A);
    await until('node B sees the new name', async () => (await loadCatalogue(B)).subcategories.some((c) => c.name('en') === 'Renamed on A'));
  });

  it('counts failed logins on both nodes together', async () => {
    const a = new Browser(bases[0]!);
    const b = new Browser(bases[1]!);
    for (let i = 0; i < 2; i++) assert.equal((await a.login('roamer', 'wrong password')).status, 401);
    assert.equal((await b.login('roamer', 'wrong password')).status, 401);
    // Three failures for this account, two of them on node A: node B refuses the next try.
    const refused = await b.login('roamer', 'a long enough password');
    assert.equal(refused.status, 429, 'node B knows of node A’s failures');
  });

  it('gives the sharing rules one holder, which keeps it', { timeout: 60_000 }, async () => {
    const db = nodes[0]!.db();
    const holder = async () => (await db.selectFrom('job_lease').select('holder').where('name', '=', 'sharing-rules').executeTakeFirst())?.holder;
    await until('a node takes the sharing-rules lease', async () => (await holder()) !== undefined, 15_000);
    const first = await holder();
    assert.ok([nodes[0]!.nodeId, nodes[1]!.nodeId].includes(first!), `holder ${first} is one of the nodes`);
    const expiry = async () => Number((await db.selectFrom('job_lease').select('expires_at').where('name', '=', 'sharing-rules').executeTakeFirstOrThrow()).expires_at);
    const e1 = await expiry();
    // Both nodes try every 10 s; the holder renews, the other is refused.
    await until('the lease is renewed', async () => (await expiry()) > e1, 15_000);
    assert.equal(await holder(), first, 'the same node still holds it');
  });
});
