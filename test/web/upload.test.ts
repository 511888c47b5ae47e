/**
 * Upload through the browser (no JavaScript): the two-step wizard, torrents made by mktorrent and
 * python3-libtorrent (v1, v2, hybrid) stored private with the site's source tag and no announce,
 * the tracker accepting the new info hashes at once, and the refusals (broken torrent, duplicate,
 * wrong terms, CSRF, visitors).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startSite, type Browser, type TestSite } from '../helpers/site.js';
import { httpAnnounce } from '../helpers/announce.js';
import { content } from '../fixtures/metainfo/builders.js';
import { bdecode, type BDict } from '../../src/protocol/bencode.js';
import { formatTorrentError } from '../../src/metainfo/messages.js';
import { parseTorrentFile } from '../../src/metainfo/torrent-file.js';
import { escapeHtml } from '../../src/web/html.js';

const PYTHON = '/usr/bin/python3';
const LT_TOOL = fileURLToPath(new URL('../fixtures/metainfo/lt-tool.py', import.meta.url));
const NO_MK = spawnSync('mktorrent', ['-h'], { encoding: 'utf8' }).error === undefined ? false : 'mktorrent is not installed (apt-get install -y mktorrent)';
const NO_LT = spawnSync(PYTHON, ['-c', 'import libtorrent'], { encoding: 'utf8' }).status === 0 ? false : `python3-libtorrent is not available to ${PYTHON} (apt-get install -y python3-libtorrent)`;

let dir = '';
let serial = 0;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}${r.error?.message ?? ''}`);
}

/** A fresh content directory (unique name, so unique info hashes). */
function makeContent(label: string): string {
  const root = join(dir, `${label}-${++serial}`);
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'video.bin'), content(serial, 50_000));
  writeFileSync(join(root, 'sub', 'notes.txt'), content(serial + 100, 1_000));
  return root;
}

function mktorrent(label: string): Buffer {
  const target = makeContent(label);
  const out = `${target}.torrent`;
  run('mktorrent', ['-a', 'http://public-tracker.example/announce', '-c', 'made by mktorrent', '-l', '15', '-o', out, target]);
  return readFileSync(out);
}

function libtorrent(kind: 'v1' | 'v2' | 'hybrid', label: string): Buffer {
  const target = makeContent(label);
  const out = `${target}.torrent`;
  run(PYTHON, [LT_TOOL, 'create', kind, target, out, '16384']);
  return readFileSync(out);
}

function torrentBlob(bytes: Buffer): Blob {
  return new Blob([new Uint8Array(bytes)], { type: 'application/x-bittorrent' });
}

interface UploadFields {
  category: number;
  terms?: number[];
  title?: string;
  description?: string;
  format?: string;
  anonymous?: boolean;
  torrent?: Buffer;
  nfo?: Buffer;
  action?: string;
}

async function postUpload(b: Browser, f: UploadFields, csrf?: string) {
  const form = new FormData();
  if (csrf !== undefined) form.append('_csrf', csrf);
  form.append('category', String(f.category));
  for (const t of f.terms ?? []) form.append('term', String(t));
  form.append('title', f.title ?? '');
  form.append('format', f.format ?? 'bbcode');
  form.append('description', f.description ?? '');
  if (f.anonymous) form.append('anonymous', '1');
  if (f.torrent) form.append('torrent', torrentBlob(f.torrent), 'upload.torrent');
  else form.append('torrent', new Blob([]), '');
  if (f.nfo) form.append('nfo', new Blob([new Uint8Array(f.nfo)]), 'info.nfo');
  if (f.action) form.append('action', f.action);
  return b.postMultipart('/upload', form);
}

describe('upload', () => {
  let s: TestSite;
  let member: { id: number; passkey: string; password: string };
  let b: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'essaim-upload-'));
    s = await startSite(null, { site: { source_tag: 'ESSAIM-TEST' } });
    // The uploader role skips the moderation queue (#4): the tracker accepts the uploads at once.
    member = await s.member('uploader1', { role: 'uploader' });
    b = s.browser();
    await b.login('uploader1', member.password);
    assert.ok(b.cookies.has('essaim_session'), 'logged in');
  });
  after(async () => {
    await s.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Uploads through the step-2 page (fresh CSRF token) and returns the new torrent's id. */
  async function upload(f: UploadFields): Promise<number> {
    await b.get(`/upload?category=${f.category}`);
    const r = await postUpload(b, f);
    assert.equal(r.status, 303, `upload accepted (got ${r.status}: ${/class="form-errors"[\s\S]*?<\/div>/.exec(r.text)?.[0] ?? ''})`);
    const m = /^\/t\/(\d+)$/.exec(r.location ?? '');
    assert.ok(m, `redirected to the short link (got ${r.location})`);
    return Number(m[1]);
  }

  async function storedTorrent(id: number): Promise<BDict> {
    const row = await s.app.db().selectFrom('torrent_metainfo').select('data').where('torrent_id', '=', id).executeTakeFirstOrThrow();
    const d = bdecode(Buffer.from(row.data));
    assert.ok(d.ok && d.value instanceof Map, 'stored metainfo decodes');
    return d.value as BDict;
  }

  async function announceOk(infoHashHex: string): Promise<void> {
    const r = await httpAnnounce(`${s.listening.httpTracker}/${member.passkey}/announce`, {
      infoHash: Buffer.from(infoHashHex.slice(0, 40), 'hex'),
      peerId: randomBytes(20),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 1000,
      event: 'started',
    });
    assert.equal(r.failure, null, `the tracker accepts ${infoHashHex} at once`);
    assert.equal(r.status, 200);
  }

  it('sends visitors to the login page', async () => {
    const v = s.browser();
    const r = await v.get('/upload', false);
    assert.equal(r.status, 303);
    assert.equal(r.location, '/login?next=%2Fupload');
    await v.get('/login');
    const post = await postUpload(v, { category: 631 }, v.csrf);
    assert.equal(post.status, 303);
    assert.match(post.location ?? '', /^\/login\?next=/);
    const preview = await v.post('/upload/preview', { text: '[b]x[/b]', format: 'bbcode' });
    assert.equal(preview.status, 403);
  });

  it('step 1 offers the subcategories grouped by parent, and refuses a parent or an unknown id', async () => {
    const r = await b.get('/upload');
    assert.equal(r.status, 200);
    assert.match(r.text, /<form method="get" action="\/upload"/);
    assert.match(r.text, /<optgroup label="Video">[\s\S]*<option value="631">Movies<\/option>/);
    assert.ok(!/<option value="210"/.test(r.text), 'parents are not choices');
    const parent = await b.get('/upload?category=210');
    assert.equal(parent.status, 400);
    assert.ok(parent.text.includes('Choose a subcategory, not a top-level category.'), 'parent refused');
    assert.equal((await b.get('/upload?category=999999')).status, 400);
    const fr = s.browser();
    fr.acceptLanguage = 'fr';
    await fr.login('uploader1', member.password);
    const frPage = await fr.get('/upload');
    assert.match(frPage.text, /<optgroup label="Film\/Vidéo">[\s\S]*<option value="631">Film<\/option>/, 'French names');
  });

  it('step 2 shows the terms of the subcategory (select for single, checkboxes for multi) and the multipart form', async () => {
    const r = await b.get('/upload?category=433');
    assert.equal(r.status, 200);
    assert.match(r.text, /enctype="multipart\/form-data"/);
    assert.match(r.text, /name="_csrf" value="[^"]+"/);
    assert.match(r.text, /<input type="hidden" name="category" value="433">/);
    assert.match(r.text, /<label for="upload-term-7">Video - Quality<\/label>\s*<select id="upload-term-7" name="term">/, 'quality select');
    assert.match(r.text, /<label for="upload-term-45">TV series - Season<\/label>/, 'season select for series');
    assert.match(r.text, /<legend>Video - Genre<\/legend>[\s\S]*?type="checkbox" id="upload-term-2-\d+" name="term"/, 'genre checkboxes');
    assert.ok(!r.text.includes('upload-term-17"'), 'film language type is not bound to series');
    assert.match(r.text, /<textarea id="upload-description" name="description"[^>]*data-preview="\/upload\/preview" data-target="upload-preview"/);
    assert.match(r.text, /<div id="upload-preview"/);
    assert.match(r.text, /<input type="radio" id="upload-format-bbcode" name="format" value="bbcode" checked>/, 'BBCode by default');
    assert.match(r.text, /<input type="file" id="upload-nfo" name="nfo"/);
    assert.match(r.text, /<input type="checkbox" id="upload-anonymous" name="anonymous" value="1">/);
    // Every input has its label.
    for (const m of r.text.matchAll(/<(?:input|select|textarea) [^>]*id="([^"]+)"/g)) {
      assert.ok(r.text.includes(`for="${m[1]}"`), `label for ${m[1]}`);
    }
  });

  it('uploads a mktorrent torrent: private, source tag, no announce, terms kept, tracker accepts it at once', { skip: NO_MK }, async () => {
    const bytes = mktorrent('mk');
    const original = parseTorrentFile(bytes);
    assert.ok(original.ok && !original.torrent.isPrivate, 'a public torrent from mktorrent');
    const nfo = Buffer.from('Release notes \xdb\xdb\r\n', 'latin1');
    const id = await upload({ category: 631, terms: [12, 541, 31, 39], title: 'A holiday film', description: '[b]Bold[/b] words', torrent: bytes, nfo, anonymous: true });
    const stored = await storedTorrent(id);
    assert.equal(stored.has('announce'), false, 'no announce stored');
    assert.equal(stored.has('announce-list'), false, 'no announce-list stored');
    const info = stored.get('info') as BDict;
    assert.equal(info.get('private'), 1);
    assert.equal(String(info.get('source')), 'ESSAIM-TEST');
    const row = await s.app.db().selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.name, 'A holiday film');
    assert.equal(row.slug, 'a-holiday-film');
    assert.equal(row.category_id, 631);
    assert.equal(row.uploader_id, member.id);
    assert.equal(row.anonymous, 1);
    assert.equal(row.status, 'active');
    assert.equal(row.nfo, 'Release notes ██\n');
    assert.equal(row.file_count, 2);
    assert.equal(row.size, 51_000);
    assert.notEqual(row.info_hash_v1, original.ok ? original.torrent.infoHashV1 : '', 'new info hash (private + source)');
    const terms = await s.app.db().selectFrom('torrent_term').select('term_id').where('torrent_id', '=', id).orderBy('term_id').execute();
    assert.deepEqual(terms.map((x) => x.term_id), [12, 31, 39, 541]);
    const files = await s.app.db().selectFrom('torrent_file').select('path').where('torrent_id', '=', id).orderBy('idx').execute();
    assert.deepEqual(files.map((f) => f.path).sort(), ['sub/notes.txt', 'video.bin']);
    await announceOk(row.info_hash_v1!);
  });

  for (const kind of ['v2', 'hybrid'] as const) {
    it(`uploads a ${kind} torrent made by libtorrent, title defaulting to its name, and the tracker accepts its swarm hashes`, { skip: NO_LT }, async () => {
      const bytes = libtorrent(kind, `lt-${kind}`);
      const parsed = parseTorrentFile(bytes);
      assert.ok(parsed.ok, 'libtorrent torrent parses');
      const id = await upload({ category: 623, terms: [529], description: '# Title', format: 'markdown', torrent: bytes });
      const row = await s.app.db().selectFrom('torrent').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.name, parsed.ok ? parsed.torrent.name : '', 'title defaults to the name');
      assert.equal(row.description_format, 'markdown');
      assert.equal(row.info_hash_v1 !== null, kind === 'hybrid');
      assert.ok(row.info_hash_v2, 'v2 hash stored');
      const info = (await storedTorrent(id)).get('info') as BDict;
      assert.equal(info.get('private'), 1);
      assert.equal(String(info.get('source')), 'ESSAIM-TEST');
      await announceOk(row.info_hash_v2!);
      if (row.info_hash_v1) await announceOk(row.info_hash_v1);
    });
  }

  it('names the defect of a broken torrent and keeps what was typed', async () => {
    await b.get('/upload?category=631');
    // Keys out of order: non-canonical bencoding.
    const broken = Buffer.from('d4:infod4:name1:x6:lengthi1e12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee');
    const parsed = parseTorrentFile(broken);
    assert.ok(!parsed.ok, 'the fixture is broken');
    const r = await postUpload(b, { category: 631, terms: [12, 31], title: 'Kept <title>', description: 'Kept [i]description[/i]', torrent: broken, anonymous: true });
    assert.equal(r.status, 400);
    assert.ok(r.text.includes(escapeHtml(formatTorrentError(parsed.error, 'en'))), 'the defect is named');
    assert.ok(r.text.includes('This .torrent file was refused'), 'upload message');
    assert.ok(r.text.includes('value="Kept &lt;title&gt;"'), 'title kept (escaped)');
    assert.ok(r.text.includes('>Kept [i]description[/i]</textarea>'), 'description kept');
    assert.match(r.text, /<option value="12" selected>/, 'single term kept');
    assert.match(r.text, /value="31" checked>/, 'multi term kept');
    assert.match(r.text, /id="upload-anonymous" name="anonymous" value="1" checked>/, 'anonymous kept');
    assert.ok(r.text.includes('please choose the .torrent file (and the NFO) again'), 'says files must be chosen again');
    assert.match(r.text, /role="alert"/);
    assert.match(r.text, /<em>description<\/em>/, 'the preview shows the description');
    // And in French.
    const fr = s.browser();
    fr.acceptLanguage = 'fr';
    await fr.login('uploader1', member.password);
    await fr.get('/upload?category=631');
    const frPage = await postUpload(fr, { category: 631, torrent: broken });
    assert.ok(frPage.text.includes(escapeHtml(formatTorrentError(parsed.error, 'fr'))), 'the defect is named in French');
    const missing = await postUpload(b, { category: 631, title: 'no file' });
    assert.equal(missing.status, 400);
    assert.ok(missing.text.includes('Choose the .torrent file to upload.'), 'a missing file is named');
  });

  it('answers a duplicate info hash with a link to the existing torrent', { skip: NO_MK }, async () => {
    const bytes = mktorrent('dup');
    const first = await upload({ category: 631, torrent: bytes });
    await b.get('/upload?category=631');
    const again = await postUpload(b, { category: 631, torrent: bytes, title: 'Same again' });
    assert.equal(again.status, 409);
    assert.ok(again.text.includes(`<a href="/t/${first}">`), 'links to the existing torrent');
    assert.ok(again.text.includes('This torrent is already on the site.'), 'says it is a duplicate');
    // The stored file (downloaded and uploaded again) is a duplicate too.
    const stored = await s.app.db().selectFrom('torrent_metainfo').select('data').where('torrent_id', '=', first).executeTakeFirstOrThrow();
    const third = await postUpload(b, { category: 631, torrent: Buffer.from(stored.data) });
    assert.equal(third.status, 409);
  });

  it('refuses terms that do not belong to the subcategory, or several for a single type', { skip: NO_MK }, async () => {
    await b.get('/upload?category=631');
    const count = async () => Number((await s.app.db().selectFrom('torrent').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const r = await postUpload(b, { category: 631, terms: [613, 12, 16], torrent: mktorrent('terms') });
    assert.equal(r.status, 400);
    assert.ok(r.text.includes('“PlayStation” does not apply to this subcategory.'), 'foreign term named');
    assert.ok(r.text.includes('Choose only one “Video - Quality”.'), 'single type named');
    const unknown = await postUpload(b, { category: 631, terms: [987654], torrent: mktorrent('terms') });
    assert.ok(unknown.text.includes('The detail #987654 does not exist.'), 'unknown term named');
    const parent = await postUpload(b, { category: 210, torrent: mktorrent('terms') });
    assert.equal(parent.status, 400);
    assert.ok(parent.text.includes('Choose a subcategory, not a top-level category.'), 'parent refused at POST');
    assert.equal(await count(), before, 'nothing stored');
  });

  it('checks the CSRF token of the multipart form', async () => {
    await b.get('/upload?category=631');
    const none = await postUpload(b, { category: 631 }, '');
    assert.equal(none.status, 403);
    const forged = await postUpload(b, { category: 631 }, 'forged');
    assert.equal(forged.status, 403);
  });

  it('previews descriptions: the live endpoint (CSRF-checked) and the preview button without JavaScript', async () => {
    await b.get('/upload?category=631');
    const frag = await b.post('/upload/preview', { text: '[b]bold[/b] <script>alert(1)</script>', format: 'bbcode' });
    assert.equal(frag.status, 200);
    assert.match(frag.headers.get('content-type') ?? '', /text\/html/);
    assert.ok(frag.text.includes('<strong>bold</strong>'), 'rendered');
    assert.ok(!frag.text.includes('<script'), 'no script survives');
    assert.ok(!frag.text.includes('<html'), 'a fragment, not a page');
    const md = await b.post('/upload/preview', { text: '*em*', format: 'markdown' });
    assert.ok(md.text.includes('<em>em</em>'), 'Markdown');
    const forged = await b.post('/upload/preview', { text: 'x', format: 'bbcode', _csrf: 'nope' });
    assert.equal(forged.status, 403);
    const noJs = await postUpload(b, { category: 631, description: '[u]under[/u]', title: 'typed', action: 'preview' });
    assert.equal(noJs.status, 200);
    assert.ok(noJs.text.includes('<u>under</u>') || noJs.text.includes('under</span>'), 'preview rendered in the page');
    assert.ok(noJs.text.includes('value="typed"'), 'fields kept');
    const count = await s.app.db().selectFrom('torrent').select('id').where('name', '=', 'typed').execute();
    assert.deepEqual(count, [], 'a preview stores nothing');
  });

  it('tells which file is too large', async () => {
    const small = await startSite(null, { site: { max_torrent_bytes: 1024, max_nfo_bytes: 1024 } });
    try {
      const m = await small.member('smallup');
      const sb = small.browser();
      await sb.login('smallup', m.password);
      await sb.get('/upload?category=631');
      const r = await postUpload(sb, { category: 631, torrent: Buffer.alloc(5000, 0x61), nfo: Buffer.alloc(3000, 0x41) });
      assert.equal(r.status, 400);
      assert.ok(r.text.includes('The .torrent file is larger than the limit of'), 'torrent too large named');
      assert.ok(r.text.includes('The NFO file is larger than the limit of'), 'NFO too large named');
    } finally {
      await small.stop();
    }
  });
});
