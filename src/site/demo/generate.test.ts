import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { forEachDialect } from '../../db/test-databases.js';
import { parseTorrentFile } from '../../metainfo/torrent-file.js';
import { generateDemo } from './generate.js';

forEachDialect((name, open) => {
  describe(`demo data (${name})`, () => {
    it('fills members and torrents consistent with the taxonomy, with real metainfo for the first ones', async () => {
      const t = await open();
      try {
        const db = t.db;
        await db.insertInto('category').values([
          { id: 1, parent_id: null, slug: 'p', icon: 'p', name_en: 'Parent', name_fr: 'Parent' },
          { id: 2, parent_id: 1, slug: 's', icon: 's', name_en: 'Sub', name_fr: 'Sous' },
        ]).execute();
        await db.insertInto('term_type').values([
          { id: 10, name_en: 'Quality', name_fr: 'Qualité', mode: 'single' },
          { id: 11, name_en: 'Language', name_fr: 'Langue', mode: 'multi' },
        ]).execute();
        await db.insertInto('category_term_type').values([{ category_id: 2, term_type_id: 10 }, { category_id: 2, term_type_id: 11 }]).execute();
        await db.insertInto('term').values([
          { id: 100, term_type_id: 10, name_en: 'HD', name_fr: 'HD' },
          { id: 101, term_type_id: 10, name_en: 'SD', name_fr: 'SD' },
          { id: 110, term_type_id: 11, name_en: 'French', name_fr: 'Français' },
          { id: 111, term_type_id: 11, name_en: 'English', name_fr: 'Anglais' },
        ]).execute();
        const progress: string[] = [];
        const r = await generateDemo(db, { torrents: 30, users: 4, metainfoLimit: 10, now: 1_800_000_000, progress: (d, n, phase) => progress.push(`${phase}:${d}/${n}`) });
        assert.equal(r.users, 4);
        assert.equal(r.torrents, 30);
        assert.ok(progress.includes('torrents:30/30'), `progress reported the end (${progress.join(' ')})`);
        const torrents = await db.selectFrom('torrent').selectAll().execute();
        assert.equal(torrents.length, 30);
        assert.ok(torrents.every((x) => x.category_id === 2), 'only subcategories are used');
        // Single-mode types carry at most one term per torrent.
        const single = await db.selectFrom('torrent_term').select(['torrent_id']).where('term_type_id', '=', 10).execute();
        assert.equal(new Set(single.map((x) => x.torrent_id)).size, single.length, 'one quality per torrent at most');
        // Metainfo: exactly the first 10, parseable, and their info hash is the registered swarm.
        const metas = await db.selectFrom('torrent_metainfo').innerJoin('torrent', 'torrent.id', 'torrent_metainfo.torrent_id').select(['torrent_metainfo.data', 'torrent.info_hash_v1', 'torrent.size']).execute();
        assert.equal(metas.length, 10);
        for (const m of metas) {
          const parsed = parseTorrentFile(m.data);
          assert.ok(parsed.ok, `demo metainfo parses: ${parsed.ok ? '' : parsed.error.message}`);
          if (parsed.ok) {
            assert.equal(parsed.torrent.infoHashV1, m.info_hash_v1);
            assert.equal(createHash('sha1').update(parsed.torrent.infoBytes).digest('hex'), m.info_hash_v1);
            assert.equal(parsed.torrent.totalSize, m.size);
          }
        }
        const swarms = await db.selectFrom('torrent_swarm').select('info_hash').execute();
        assert.equal(swarms.length, 30);
      } finally {
        await t.close();
      }
    });
  });
});
