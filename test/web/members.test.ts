/**
 * Members' profiles (privacy levels as seen by another member, the member themself and the
 * staff), the last-24-hours figures, the traffic chart, the current torrents, and My torrents.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { UserPrivacy } from '../../src/db/schema.js';
import { bencode } from '../../src/protocol/bencode.js';
import { createSession } from '../../src/site/sessions.js';
import { insertCategories, insertTorrent, type InsertedTorrent } from '../../src/site/torrents/read.testing.js';
import { SESSION_COOKIE } from '../../src/web/context.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';
import { chromiumUnavailable, launchChromium, seriousA11yViolations } from '../helpers/chromium.js';

type Member = Awaited<ReturnType<TestSite['member']>>;

async function loggedIn(s: TestSite, m: { id: number }): Promise<Browser> {
  const b = s.browser();
  const token = await createSession(s.app.db(), m.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
  b.cookies.set(SESSION_COOKIE, token);
  return b;
}

let serial = 0;
function raw(name: string): Buffer {
  const b = buildTorrent('v1', { name, files: [{ path: ['a.bin'], size: 20000 + serial++ }] });
  return bencode(b.top);
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

interface Fixture {
  member: Member;
  public: InsertedTorrent;
  anonymous: InsertedTorrent;
  pending: InsertedTorrent;
  seeding: InsertedTorrent;
  leeching: InsertedTorrent;
  stale: InsertedTorrent;
}

describe('member profiles', () => {
  let s: TestSite;
  let viewer: Member;
  let staff: Member;
  const people = new Map<UserPrivacy, Fixture>();
  const now = Math.floor(Date.now() / 1000);
  const hour = Math.floor(now / 3600);

  before(async () => {
    s = await startSite(null, { web: { page_size: 10 } });
    const db = s.app.db();
    await insertCategories(db, [
      { id: 80101, name_en: 'Video' },
      { id: 80102, parent_id: 80101, name_en: 'Films' },
    ]);
    viewer = await s.member('viewer');
    staff = await s.member('staffer', { role: 'supermod' });
    for (const privacy of ['low', 'normal', 'strong'] as const) {
      const member = await s.member(`${privacy}-user`);
      await db
        .updateTable('user')
        .set({ privacy, title: `${privacy} title`, uploaded: 3 * GiB, downloaded: 2 * GiB })
        .where('id', '=', member.id)
        .execute();
      const mk = (label: string, extra: Parameters<typeof insertTorrent>[1] | object = {}) =>
        insertTorrent(db, { raw: raw(`${privacy} ${label}`), categoryId: 80102, uploaderId: member.id, ...extra });
      const f: Fixture = {
        member,
        public: await mk('public upload'),
        anonymous: await mk('anonymous upload', { anonymous: 1 }),
        pending: await mk('pending upload', { status: 'pending' }),
        seeding: await insertTorrent(db, { raw: raw(`${privacy} seeding torrent`), categoryId: 80102, uploaderId: viewer.id }),
        leeching: await insertTorrent(db, { raw: raw(`${privacy} leeching torrent`), categoryId: 80102, uploaderId: viewer.id }),
        stale: await insertTorrent(db, { raw: raw(`${privacy} stale torrent`), categoryId: 80102, uploaderId: viewer.id }),
      };
      const ut = (torrentId: number, completedAt: number | null, lastSeen: number) =>
        db.insertInto('user_torrent').values({ user_id: member.id, torrent_id: torrentId, completed_at: completedAt, first_seen_at: now - 86400, last_seen_at: lastSeen, uploaded: 5 * MiB, downloaded: 1 * MiB }).execute();
      await ut(f.seeding.id, now - 3600, now - 60);
      await ut(f.leeching.id, null, now - 120);
      await ut(f.stale.id, now - 7200, now - 3 * 86400);
      // Last 24 hours: this hour and 23 hours ago count; 24 hours ago does not.
      await db
        .insertInto('user_traffic_hour')
        .values([
          { user_id: member.id, hour, uploaded: 100 * MiB, downloaded: 10 * MiB },
          { user_id: member.id, hour: hour - 23, uploaded: 50 * MiB, downloaded: 5 * MiB },
          { user_id: member.id, hour: hour - 24, uploaded: 1000 * MiB, downloaded: 1000 * MiB },
          // Ten days ago, the biggest day of the chart; and 40 days ago, outside it.
          { user_id: member.id, hour: hour - 240, uploaded: 2 * GiB, downloaded: 300 * MiB },
          { user_id: member.id, hour: hour - 960, uploaded: 9 * GiB, downloaded: 9 * GiB },
        ])
        .execute();
      people.set(privacy, f);
    }
  });
  after(() => s.stop());

  const get = (p: UserPrivacy) => people.get(p)!;

  it('needs a login', async () => {
    const r = await s.browser().get(`/u/${get('low').member.id}`, false);
    assert.equal(r.status, 303);
    assert.match(r.location ?? '', /^\/login\?next=%2Fu%2F/);
    assert.equal((await s.browser().get(`/u/${get('low').member.id}/traffic.svg`, false)).status, 303);
    assert.equal((await s.browser().get('/my/torrents', false)).status, 303);
  });

  it('answers 404 for an unknown member', async () => {
    const b = await loggedIn(s, viewer);
    assert.equal((await b.get('/u/987654')).status, 404);
    assert.equal((await b.get('/u/nobody')).status, 404);
  });

  it('low: another member sees stats, current torrents and public uploads', async () => {
    const f = get('low');
    const r = await (await loggedIn(s, viewer)).get(`/u/${f.member.id}`);
    assert.equal(r.status, 200);
    assert.match(r.text, /<h1>low-user<\/h1>/);
    assert.match(r.text, /<dt>Class<\/dt><dd>Member<\/dd>/);
    assert.match(r.text, /<dt>Member since<\/dt>/);
    assert.match(r.text, /<dt>Title<\/dt><dd>low title<\/dd>/);
    assert.match(r.text, /<dt>Uploaded<\/dt><dd>3 GiB<\/dd>/);
    assert.match(r.text, /<dt>Downloaded<\/dt><dd>2 GiB<\/dd>/);
    assert.match(r.text, /<dt>Ratio<\/dt><dd>1.50<\/dd>/);
    assert.match(r.text, /<dt>Uploaded in the last 24 hours<\/dt><dd>150 MiB<\/dd>/);
    assert.match(r.text, /<dt>Downloaded in the last 24 hours<\/dt><dd>15 MiB<\/dd>/);
    assert.match(r.text, new RegExp(`<img src="/u/${f.member.id}/traffic.svg" alt="Bar chart of the bytes low-user uploaded and downloaded each day over the last 30 days: [^"]+"`));
    assert.ok(r.text.includes('low seeding torrent'), 'seeding list');
    assert.ok(r.text.includes('low leeching torrent'), 'leeching list');
    assert.ok(!r.text.includes('low stale torrent'), 'a torrent not announced within the peer timeout is not current');
    assert.match(r.text, /<h2 id="h-seeding">Seeding \(1\)<\/h2>[\s\S]*low seeding torrent[\s\S]*<h2 id="h-leeching">/);
    assert.match(r.text, /<h2 id="h-leeching">Leeching \(1\)<\/h2>[\s\S]*low leeching torrent/);
    assert.ok(r.text.includes('low public upload'), 'public upload');
    assert.ok(!r.text.includes('low anonymous upload'), 'anonymous upload hidden from others');
    assert.ok(!r.text.includes('low pending upload'), 'pending upload hidden from others');
    assert.match(r.text, /Uploads \(1\)/);
  });

  it('normal: another member sees stats and uploads but not the current torrents', async () => {
    const f = get('normal');
    const r = await (await loggedIn(s, viewer)).get(`/u/${f.member.id}`);
    assert.equal(r.status, 200);
    assert.match(r.text, /<dt>Uploaded<\/dt><dd>3 GiB<\/dd>/);
    assert.match(r.text, /traffic\.svg/);
    assert.ok(!r.text.includes('normal seeding torrent'), 'seeding hidden');
    assert.ok(!r.text.includes('normal leeching torrent'), 'leeching hidden');
    assert.ok(!r.text.includes('id="h-seeding"'), 'no seeding section');
    assert.ok(r.text.includes('normal public upload'), 'public upload shown');
    assert.ok(!r.text.includes('normal anonymous upload'), 'anonymous upload hidden');
    assert.match(r.text, /keeps the torrents they are seeding and leeching private/);
  });

  it('strong: another member sees only username, class and join date', async () => {
    const f = get('strong');
    const b = await loggedIn(s, viewer);
    const r = await b.get(`/u/${f.member.id}`);
    assert.equal(r.status, 200);
    assert.match(r.text, /<h1>strong-user<\/h1>/);
    assert.match(r.text, /<dt>Class<\/dt>/);
    assert.match(r.text, /<dt>Member since<\/dt>/);
    for (const hidden of ['<dt>Uploaded</dt>', '<dt>Ratio</dt>', 'strong title', 'traffic.svg', 'last 24 hours', 'strong public upload', 'strong seeding torrent', 'id="h-uploads"']) {
      assert.ok(!r.text.includes(hidden), `hidden: ${hidden}`);
    }
    assert.match(r.text, /keeps their statistics and torrents private/);
    assert.equal((await b.get(`/u/${f.member.id}/traffic.svg`)).status, 404);
  });

  it('the member themself and the staff see everything, whatever the level', async () => {
    const f = get('strong');
    for (const who of [f.member, staff]) {
      const b = await loggedIn(s, who);
      const r = await b.get(`/u/${f.member.id}`);
      assert.equal(r.status, 200);
      for (const shown of ['<dt>Uploaded</dt>', 'strong title', 'traffic.svg', 'strong public upload', 'strong anonymous upload', 'strong pending upload', 'strong seeding torrent', 'strong leeching torrent']) {
        assert.ok(r.text.includes(shown), `shown: ${shown}`);
      }
      assert.ok(r.text.includes('<span class="badge pending">Pending</span>'), 'pending badge');
      assert.equal((await b.get(`/u/${f.member.id}/traffic.svg`)).status, 200);
    }
    const own = await (await loggedIn(s, f.member)).get(`/u/${f.member.id}`);
    assert.match(own.text, /Your privacy level is strong/);
    const asStaff = await (await loggedIn(s, staff)).get(`/u/${f.member.id}`);
    assert.match(asStaff.text, /You see this profile in full as staff; its privacy level is strong/);
  });

  it('draws the daily traffic as a well-formed SVG that reflects the hourly rows', async () => {
    const f = get('low');
    const r = await (await loggedIn(s, viewer)).get(`/u/${f.member.id}/traffic.svg`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.equal(XMLValidator.validate(r.text), true, 'well-formed XML');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['g', 'rect', 'text', 'line'].includes(name) }).parse(r.text) as {
      svg: { title: { '#text': string } | string; desc: unknown; g: Array<{ '@class'?: string; g?: Array<{ title: string; rect: Array<Record<string, string>> }>; text?: unknown[] }> };
    };
    const svg = doc.svg;
    const title = typeof svg.title === 'string' ? svg.title : svg.title['#text'];
    assert.equal(title, 'Traffic of low-user per day, last 30 days');
    const bars = svg.g.find((g) => g['@class'] === 'bars')?.g ?? [];
    assert.equal(bars.length, 30, 'one group per day');
    const heights = bars.map((g) => g.rect.map((x) => Number(x['@height'])));
    // Ten days ago is the tallest upload bar (2 GiB); 40 days ago is outside the chart.
    const tallest = heights.reduce((best, h, i) => (h[0]! > heights[best]![0]! ? i : best), 0);
    assert.equal(tallest, 29 - Math.floor(now / 86400) + Math.floor((hour - 240) / 24));
    assert.match(bars[tallest]!.title, /2 GiB uploaded, 300 MiB downloaded/);
    const total = bars.reduce((a, g) => a + (/: (.*?) uploaded/.exec(g.title) ? 1 : 0), 0);
    assert.equal(total, 30, 'every day has a tooltip');
    const texts = svg.g.find((g) => g['@class'] === 'legend')?.text ?? [];
    assert.deepEqual(texts.map((x) => (typeof x === 'string' ? x : (x as { '#text': string })['#text'])), ['Uploaded', 'Downloaded']);
    assert.ok(!r.text.includes('<script'), 'no script in the image');
  });

  it('lists the member\'s own uploads in My torrents, anonymous and pending included', async () => {
    const f = get('normal');
    const r = await (await loggedIn(s, f.member)).get('/my/torrents');
    assert.equal(r.status, 200);
    for (const name of ['normal public upload', 'normal anonymous upload', 'normal pending upload']) assert.ok(r.text.includes(name), `listed: ${name}`);
    assert.ok(!r.text.includes('low public upload'), 'only the member\'s own');
    assert.match(r.text, /Uploads: 3/);
    const other = await (await loggedIn(s, await s.member('newbie'))).get('/my/torrents');
    assert.match(other.text, /You have not uploaded anything yet\./);
  });
  it('pages My torrents', async () => {
    const many = await s.member('prolific');
    for (let i = 0; i < 11; i++) await insertTorrent(s.app.db(), { raw: raw(`prolific ${i}`), name: `prolific upload ${String(i).padStart(2, '0')}`, uploaderId: many.id, createdAt: 1000 + i });
    const b = await loggedIn(s, many);
    const first = await b.get('/my/torrents');
    assert.match(first.text, /Uploads: 11/);
    assert.equal((first.text.match(/prolific upload \d\d/g) ?? []).length, 10);
    assert.ok(first.text.includes('prolific upload 10') && !first.text.includes('prolific upload 00'), 'newest first');
    assert.ok(first.text.includes('href="/my/torrents?page=2" rel="next"'), 'next link');
    const second = await b.get('/my/torrents?page=2');
    assert.equal((second.text.match(/prolific upload \d\d/g) ?? []).length, 1);
    assert.ok(second.text.includes('prolific upload 00'), 'oldest on page 2');
    assert.ok(second.text.includes('href="/my/torrents?page=1" rel="prev"'), 'previous link');
    const beyond = await b.get('/my/torrents?page=99');
    assert.ok(beyond.text.includes('prolific upload 00'), 'a page beyond the last shows the last');
  });

  describe('in Chromium', { skip: chromiumUnavailable() ?? false }, () => {
    it('has no serious or critical accessibility violation', async () => {
      const browser = await launchChromium();
      try {
        const context = await browser.newContext();
        const token = await createSession(s.app.db(), get('low').member.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: Math.floor(Date.now() / 1000) });
        await context.addCookies([{ name: SESSION_COOKIE, value: token, url: s.base }]);
        const tab = await context.newPage();
        for (const path of [`/u/${get('low').member.id}`, `/u/${get('strong').member.id}`, `/u/${get('low').member.id}/traffic.svg`, '/my/torrents']) {
          const res = await tab.goto(s.base + path);
          assert.equal(res?.status(), 200, path);
          if (path.endsWith('.svg')) continue;
          const v = await seriousA11yViolations(tab);
          assert.deepEqual(v, [], `${path}: ${JSON.stringify(v)}`);
        }
      } finally {
        await browser.close();
      }
    });
  });
});
