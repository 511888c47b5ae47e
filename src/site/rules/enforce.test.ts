/**
 * The sharing rules' job on every dialect (the web tests drive it through the tracker on SQLite):
 * ratio watch, download refusal after the watch, recovery, and the hit-and-run cycle.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../config/index.js';
import { forEachDialect } from '../../db/test-databases.js';
import { registerTorrent } from '../../db/torrent.repository.js';
import { createUser } from '../../db/user.repository.js';
import { createLogger } from '../../shared/log.js';
import { runRules } from './enforce.js';

const GiB = 2 ** 30;

forEachDialect((name, open) => {
  describe(`sharing rules job (${name})`, () => {
    it('watches a low ratio, refuses downloads after the watch, lifts on recovery; tracks hit-and-runs', async () => {
      const t = await open();
      try {
        const db = t.db;
        const base = defaultConfig();
        const config = { ...base, rules: { ...base.rules, min_ratio: 1, ratio_grace: GiB, ratio_watch: 1000, hnr_seed_time: 500, hnr_window: 2000, hnr_prewarn: 500, hnr_max_warnings: 1 } };
        const told: number[] = [];
        const site = { db, config, log: createLogger({ level: 'silent', pretty: false }), tracker: { torrentChanged: async () => {}, userChanged: async (id: number) => void told.push(id), swarmCounts: () => null } };
        const low = await createUser(db, { username: 'low', now: 0 });
        const fine = await createUser(db, { username: 'fine', now: 0 });
        await db.updateTable('user').set({ uploaded: GiB, downloaded: 4 * GiB }).where('id', '=', low.id).execute();
        await db.updateTable('user').set({ uploaded: 9 * GiB, downloaded: 4 * GiB }).where('id', '=', fine.id).execute();

        let r = await runRules(site, 10_000);
        assert.deepEqual(r.ratio.entered, [low.id], 'the low-ratio member enters the watch');
        let u = await db.selectFrom('user').selectAll().where('id', '=', low.id).executeTakeFirstOrThrow();
        assert.equal(u.ratio_watch_since, 10_000);
        assert.equal(u.download_refused, 0, 'not refused during the watch');

        r = await runRules(site, 11_500);
        u = await db.selectFrom('user').selectAll().where('id', '=', low.id).executeTakeFirstOrThrow();
        assert.equal(u.download_refused, 1, 'refused once the watch is over');
        assert.match(u.download_refused_reason ?? '', /ratio/i);
        assert.ok(told.includes(low.id), 'the tracker is told');
        const other = await db.selectFrom('user').selectAll().where('id', '=', fine.id).executeTakeFirstOrThrow();
        assert.equal(other.download_refused, 0);

        await db.updateTable('user').set({ uploaded: 5 * GiB }).where('id', '=', low.id).execute();
        r = await runRules(site, 12_000);
        assert.deepEqual(r.ratio.left, [low.id]);
        u = await db.selectFrom('user').selectAll().where('id', '=', low.id).executeTakeFirstOrThrow();
        assert.equal(u.download_refused, 0, 'recovery lifts the refusal');

        // Hit-and-run: fine completes a torrent and does not seed it.
        const tor = await registerTorrent(db, { name: 'x', infoHashV1: 'ab'.repeat(20), uploaderId: low.id, now: 0 });
        await db.insertInto('user_torrent').values({ user_id: fine.id, torrent_id: tor.id, completed_at: 12_000, first_seen_at: 11_000, last_seen_at: 12_000, downloaded: GiB, raw_downloaded: GiB }).execute();
        r = await runRules(site, 12_100);
        assert.equal(r.hnr.tracked, 1, 'the completion is watched');
        r = await runRules(site, 13_600);
        assert.equal(r.hnr.prewarned, 1, 'pre-warned before the deadline');
        r = await runRules(site, 14_100);
        assert.equal(r.hnr.warned, 1, 'warned after the deadline');
        const warnings = await db.selectFrom('user_warning').selectAll().where('user_id', '=', fine.id).execute();
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0]!.kind, 'hnr');
        const f = await db.selectFrom('user').selectAll().where('id', '=', fine.id).executeTakeFirstOrThrow();
        assert.equal(f.download_refused, 1, 'one active warning reaches hnr_max_warnings = 1');
      } finally {
        await t.close();
      }
    });
  });
});
