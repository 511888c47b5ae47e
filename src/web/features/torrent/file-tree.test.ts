/** The file tree of the torrent page, and the download's headers and slugs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translator } from '../../context.js';
import { buildFileTree, renderFileTree } from './file-tree.js';
import { contentDisposition } from './download.js';
import { canonicalSlug, parseId, torrentPath } from './links.js';
import type { RequestContext } from '../../context.js';

const ctx = { t: translator('en'), locale: 'en' } as unknown as RequestContext;

describe('file tree', () => {
  it('nests directories in order of first appearance with their totals', () => {
    const root = buildFileTree([
      { path: 'b/x.bin', size: 10 },
      { path: 'a.txt', size: 1 },
      { path: 'b/c/y.bin', size: 100 },
      { path: 'b/z.bin', size: 1000 },
    ]);
    assert.equal(root.size, 1111);
    assert.equal(root.fileCount, 4);
    assert.deepEqual(root.children.map((c) => c.name), ['b', 'a.txt']);
    const b = root.children[0]!;
    assert.ok(b.kind === 'dir', 'b is a directory');
    assert.equal(b.size, 1110);
    assert.equal(b.fileCount, 3);
    assert.deepEqual(b.children.map((c) => `${c.kind}:${c.name}:${c.size}`), ['file:x.bin:10', 'dir:c:100', 'file:z.bin:1000']);
  });

  it('renders escaped names and cuts long trees with a note', () => {
    const files = Array.from({ length: 30 }, (_, i) => ({ path: `d/<f${i}>.txt`, size: 1 }));
    const out = renderFileTree(ctx, buildFileTree(files), 11).value;
    assert.ok(out.includes('&lt;f0&gt;.txt'), 'names escaped');
    assert.ok(!out.includes('<f0>'), 'no raw markup');
    assert.equal((out.match(/<li class="file">/g) ?? []).length, 10);
    assert.match(out, /20 more files are not shown\./);
    const one = renderFileTree(ctx, buildFileTree([{ path: 'a', size: 1 }, { path: 'b', size: 2 }]), 1).value;
    assert.match(one, /1 more file is not shown\./);
  });
});

describe('download naming and links', () => {
  it('sends an ASCII filename and an RFC 5987 filename*', () => {
    assert.equal(contentDisposition({ name: 'x', slug: 'le-film-2024' }), `attachment; filename="le-film-2024.torrent"; filename*=UTF-8''le-film-2024.torrent`);
    assert.equal(contentDisposition({ name: 'Été à Paris', slug: null }), `attachment; filename="ete-a-paris.torrent"; filename*=UTF-8''ete-a-paris.torrent`);
  });

  it('keeps slugs off the other routes under /torrents/<id>/', () => {
    assert.equal(canonicalSlug({ name: 'Download', slug: 'download' }), 'download-torrent');
    assert.equal(canonicalSlug({ name: 'Bookmark', slug: null }), 'bookmark-torrent');
    assert.equal(canonicalSlug({ name: 'Some Name', slug: 'Bad Slug!' }), 'some-name');
    assert.equal(torrentPath({ id: 7, name: 'A b', slug: 'a-b' }), '/torrents/7/a-b');
  });

  it('parses ids strictly', () => {
    assert.equal(parseId('12'), 12);
    for (const bad of ['0', '-1', '01', '1e3', '1.0', 'abc', '', '99999999999999999', undefined]) assert.equal(parseId(bad), null, String(bad));
  });
});
