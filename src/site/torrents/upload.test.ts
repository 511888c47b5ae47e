/**
 * The upload service on every dialect: what a successful upload stores (torrent row, files, terms,
 * prepared metainfo, swarms) and tells the tracker, and every refusal (subcategory, terms, title,
 * description, NFO, .torrent defects, duplicates) without writing anything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../config/index.js';
import { forEachDialect, type TestDatabase } from '../../db/test-databases.js';
import { createUser } from '../../db/user.repository.js';
import { bdecode, bencode, type BDict } from '../../protocol/bencode.js';
import { silentLogger } from '../../shared/log.js';
import { systemClock } from '../../shared/clock.js';
import { buildTorrent, type Kind } from '../../../test/fixtures/metainfo/builders.js';
import { installDefaultTaxonomy } from '../catalogue/taxonomy.js';
import { updateTerm } from '../catalogue/admin.js';
import type { Site } from '../site.js';
import { initialStatus, torrentSource, uploadTorrent, type UploadInput, type UploadResult } from './upload.js';

function makeSite(db: TestDatabase['db'], changed: number[], overrides: Record<string, Record<string, unknown>> = {}): Site {
  const config = loadConfig({ env: {}, overrides: { server: { public_url: 'https://essaim.example/' }, ...overrides } as never });
  return {
    db,
    config,
    log: silentLogger(),
    clock: systemClock,
    mailer: null as never,
    limiter: null as never,
    secret: Buffer.alloc(32),
    publicUrl: 'https://essaim.example',
    tracker: {
      torrentChanged: async (id) => {
        changed.push(id);
      },
      userChanged: async () => {},
      swarmCounts: () => null,
    },
    announceUrls: () => ({ http: 'http://tracker.example/announce', udp: null }),
    now: () => 1_700_000_000,
  };
}

let serial = 0;
/** A fresh valid torrent of the given kind (a unique name gives unique info hashes). */
function torrentBytes(kind: Kind, name = `upload-test-${kind}-${++serial}`): Buffer {
  const b = buildTorrent(kind, { name, files: [{ path: ['a.bin'], size: 20000 }, { path: ['sub', 'b.txt'], size: 300 }] });
  b.top.announce = 'http://uploader.example/announce';
  return bencode(b.top);
}

function okResult(r: UploadResult) {
  if (!r.ok) assert.fail(`upload refused: ${JSON.stringify(r.problems)}`);
  return r;
}

function codes(r: UploadResult): string[] {
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? [] : r.problems.map((p) => `${p.field}:${p.code}`);
}

forEachDialect((name, open) => {
  describe(`upload service (${name})`, () => {
    let t: TestDatabase;
    let site: Site;
    const changed: number[] = [];
    let uploaderId = 0;
    const base = (o: Partial<UploadInput>): UploadInput => ({ uploader: { id: uploaderId, role: 'member' }, categoryId: 631, termIds: [], torrent: null, ...o });

    before(async () => {
      t = await open();
      await installDefaultTaxonomy(t.db);
      site = makeSite(t.db, changed);
      uploaderId = (await createUser(t.db, { username: 'uploader', email: 'u@example.test', passwordHash: null, now: 1 })).id;
    });
    after(() => t.close());

    it('stores a v1 torrent with its metadata, files, terms and prepared metainfo, and tells the tracker', async () => {
      const nfo = Buffer.from([0x48, 0x69, 0x20, 0xdb, 0xdb, 0x0d, 0x0a]); // "Hi ██" in CP437
      const r = okResult(
        await uploadTorrent(site, base({ torrent: torrentBytes('v1', 'My.Home.Video'), termIds: [12, 541, 31, 39], title: '  Our  holiday\tfilm ', description: '[b]hello[/b]', nfo, anonymous: true })),
      );
      assert.equal(r.title, 'Our holiday film');
      assert.equal(r.slug, 'our-holiday-film');
      const row = await t.db.selectFrom('torrent').selectAll().where('id', '=', r.torrentId).executeTakeFirstOrThrow();
      assert.equal(row.name, 'Our holiday film');
      assert.equal(row.category_id, 631);
      assert.equal(row.status, await initialStatus(t.db, { id: uploaderId, role: 'member' }));
      assert.equal(row.status, 'pending', "a member's upload waits in the moderation queue");
      assert.equal(row.verified, 0);
      assert.equal(row.uploader_id, uploaderId);
      assert.equal(row.anonymous, 1);
      assert.equal(row.description, '[b]hello[/b]');
      assert.equal(row.description_format, 'bbcode');
      assert.equal(row.nfo, 'Hi ██\n');
      assert.equal(row.file_count, 2);
      assert.equal(row.size, 20300);
      assert.equal(row.updated_at, 1_700_000_000);
      assert.equal(row.info_hash_v1, r.infoHashV1);
      const files = await t.db.selectFrom('torrent_file').select(['idx', 'path', 'size']).where('torrent_id', '=', r.torrentId).orderBy('idx').execute();
      assert.deepEqual(files, [
        { idx: 0, path: 'a.bin', size: 20000 },
        { idx: 1, path: 'sub/b.txt', size: 300 },
      ]);
      const terms = await t.db.selectFrom('torrent_term').select(['term_id', 'term_type_id']).where('torrent_id', '=', r.torrentId).orderBy('term_id').execute();
      assert.deepEqual(terms, [
        { term_id: 12, term_type_id: 7 },
        { term_id: 31, term_type_id: 2 },
        { term_id: 39, term_type_id: 2 },
        { term_id: 541, term_type_id: 17 },
      ]);
      const meta = await t.db.selectFrom('torrent_metainfo').select('data').where('torrent_id', '=', r.torrentId).executeTakeFirstOrThrow();
      const top = bdecode(Buffer.from(meta.data));
      assert.ok(top.ok && top.value instanceof Map, 'stored metainfo decodes');
      const dict = top.value as BDict;
      assert.equal(dict.has('announce'), false, 'no announce stored');
      const info = dict.get('info') as BDict;
      assert.equal(info.get('private'), 1);
      assert.equal(String(info.get('source')), 'essaim.example', 'source = public host name');
      assert.deepEqual(changed.at(-1), r.torrentId, 'tracker told');
      const swarms = await t.db.selectFrom('torrent_swarm').select('info_hash').where('torrent_id', '=', r.torrentId).execute();
      assert.deepEqual(swarms.map((s) => s.info_hash), [r.infoHashV1]);
    });

    it('defaults the title to the name, stores Markdown, and registers both swarms of a hybrid torrent', async () => {
      const r = okResult(await uploadTorrent(site, base({ categoryId: 433, torrent: torrentBytes('hybrid', 'Hybrid.Thing'), descriptionFormat: 'markdown', description: '# hi' })));
      assert.equal(r.title, 'Hybrid.Thing');
      assert.equal(r.slug, 'hybrid-thing');
      assert.ok(r.infoHashV1 && r.infoHashV2, 'both hashes');
      const row = await t.db.selectFrom('torrent').select(['description_format', 'anonymous']).where('id', '=', r.torrentId).executeTakeFirstOrThrow();
      assert.deepEqual(row, { description_format: 'markdown', anonymous: 0 });
      const swarms = await t.db.selectFrom('torrent_swarm').select(['info_hash', 'version']).where('torrent_id', '=', r.torrentId).orderBy('version').execute();
      assert.deepEqual(swarms, [
        { info_hash: r.infoHashV1, version: 1 },
        { info_hash: r.infoHashV2!.slice(0, 40), version: 2 },
      ]);
      const v2 = okResult(await uploadTorrent(site, base({ torrent: torrentBytes('v2') })));
      assert.equal(v2.infoHashV1, null);
      assert.equal(v2.infoHashV2?.length, 64);
    });

    it('uses the configured source tag when set', () => {
      const tagged = makeSite(t.db, [], { site: { source_tag: 'MYSITE' } });
      assert.equal(torrentSource(tagged), 'MYSITE');
      assert.equal(torrentSource(site), 'essaim.example');
    });

    it('refuses a duplicate info hash with the id of the torrent that has it', async () => {
      const bytes = torrentBytes('v1');
      const first = okResult(await uploadTorrent(site, base({ torrent: bytes })));
      const again = await uploadTorrent(site, base({ torrent: bytes, title: 'Another title' }));
      assert.equal(again.ok, false);
      assert.deepEqual(!again.ok && again.problems, [{ field: 'torrent', code: 'duplicate', torrentId: first.torrentId }]);
    });

    it('refuses parents, unknown categories and a missing one', async () => {
      assert.deepEqual(codes(await uploadTorrent(site, base({ categoryId: 210, torrent: torrentBytes('v1') }))), ['category:category_not_sub']);
      assert.deepEqual(codes(await uploadTorrent(site, base({ categoryId: 99999, torrent: torrentBytes('v1') }))), ['category:category_unknown']);
      assert.deepEqual(codes(await uploadTorrent(site, base({ categoryId: null, torrent: torrentBytes('v1') }))), ['category:category_required']);
    });

    it('refuses terms that are unknown, not bound to the subcategory, deprecated, or several for a single type', async () => {
      // 613 (Sony console) is not bound to films; 12 and 16 are two qualities; 424242 does not exist.
      const r = await uploadTorrent(site, base({ torrent: torrentBytes('v1'), termIds: [613, 12, 16, 424242, 31, 39] }));
      assert.deepEqual(codes(r).sort(), ['terms:term_not_allowed', 'terms:term_several', 'terms:term_unknown']);
      assert.ok(!r.ok && r.problems.some((p) => p.code === 'term_several' && p.params?.typeId === 7), 'names the type');
      await updateTerm(t.db, 19, { nameEn: 'WEBrip', nameFr: 'WEBrip', deprecated: true });
      assert.deepEqual(codes(await uploadTorrent(site, base({ torrent: torrentBytes('v1'), termIds: [19] }))), ['terms:term_deprecated']);
      await updateTerm(t.db, 19, { nameEn: 'WEBrip', nameFr: 'WEBrip', deprecated: false });
    });

    it('names the defect of a broken torrent, and reports every problem at once without storing anything', async () => {
      const before = await t.db.selectFrom('torrent').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const broken = Buffer.from('d4:infod6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces3:abcee');
      const r = await uploadTorrent(site, base({ torrent: broken, title: 'x'.repeat(300), descriptionFormat: 'html', termIds: [613] }));
      assert.deepEqual(codes(r).sort(), ['format:format_invalid', 'terms:term_not_allowed', 'title:title_too_long', 'torrent:torrent_invalid']);
      const tp = !r.ok ? r.problems.find((p) => p.field === 'torrent') : undefined;
      assert.equal(tp?.torrentError?.code, 'bad_pieces_length');
      assert.deepEqual(codes(await uploadTorrent(site, base({}))), ['torrent:torrent_required']);
      assert.deepEqual(codes(await uploadTorrent(site, base({ torrent: Buffer.alloc(10), torrentTruncated: true }))), ['torrent:torrent_too_large']);
      assert.deepEqual(codes(await uploadTorrent(site, base({ torrent: torrentBytes('v1'), nfo: Buffer.alloc(site.config.site.max_nfo_bytes + 1) }))), ['nfo:nfo_too_large']);
      assert.deepEqual(codes(await uploadTorrent(site, base({ torrent: torrentBytes('v1'), description: 'x'.repeat(100_001) }))), ['description:description_too_long']);
      const small = makeSite(t.db, [], { site: { max_torrent_bytes: 1024 } });
      const big = buildTorrent('v1', { name: 'big', files: Array.from({ length: 60 }, (_, i) => ({ path: [`file-${i}.bin`], size: 16384 * 2 })) });
      const tooBig = await uploadTorrent(small, base({ torrent: bencode(big.top) }));
      assert.equal(!tooBig.ok && tooBig.problems[0]?.torrentError?.code, 'too_large', 'the configured size limit applies');
      const after = await t.db.selectFrom('torrent').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n), 'nothing stored');
    });
  });
});
