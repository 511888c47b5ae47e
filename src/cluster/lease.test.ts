/** Job leases on every dialect: one holder at a time, renewal, takeover after expiry, release. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDialect, type TestDatabase } from '../db/test-databases.js';
import { JobLeases, leased, leaseTtl } from './lease.js';

describe('leaseTtl', () => {
  it('outlives the interval by 15 s to 5 min', () => {
    assert.equal(leaseTtl(5), 20);
    assert.equal(leaseTtl(60), 120);
    assert.equal(leaseTtl(3600), 3900);
  });
});

forEachDialect((name, open) => {
  describe(`job leases (${name})`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await open();
    });
    after(() => t.close());

    it('gives a lease to one node at a time, renews it, and hands it over after expiry', async () => {
      const a = new JobLeases(t.db, 'node-a');
      const b = new JobLeases(t.db, 'node-b');
      assert.equal(await a.acquire('rules', 60, 1000), true);
      assert.equal(await b.acquire('rules', 60, 1001), false);
      assert.equal(await a.acquire('rules', 60, 1050), true, 'renewed by its holder');
      assert.equal(await b.acquire('rules', 60, 1100), false, 'renewal moved the expiry to 1110');
      assert.equal(await b.acquire('rules', 60, 1110), true, 'expired: taken over');
      assert.equal(await a.acquire('rules', 60, 1111), false);
      assert.equal(await a.holderOf('rules', 1111), 'node-b');
      await a.release('rules');
      assert.equal(await a.holderOf('rules', 1111), 'node-b', 'only the holder releases');
      await b.release('rules');
      assert.equal(await a.holderOf('rules', 1111), null);
      assert.equal(await a.acquire('rules', 60, 1112), true);
    });

    it('runs a leased job on one node out of several racing', async () => {
      const runs: string[] = [];
      const nodes = ['n1', 'n2', 'n3'].map((id) => leased(new JobLeases(t.db, id), 'sweep', 30, () => 5000, () => void runs.push(id)));
      await Promise.all(nodes.map((run) => run()));
      await Promise.all(nodes.map((run) => run()));
      assert.equal(runs.length, 2, `ran ${runs.join(',')}`);
      assert.equal(runs[0], runs[1], 'the same node both times');
    });

    it('runs every time without leases (one node)', async () => {
      let n = 0;
      const run = leased(null, 'x', 10, () => 0, () => void n++);
      await run();
      await run();
      assert.equal(n, 2);
    });
  });
});
