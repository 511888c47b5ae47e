/**
 * The torrent page's file tree: the flat torrent_file paths ("dir/sub/file") turned into nested
 * directories with their total sizes, rendered as nested lists (works without JavaScript; long
 * trees are cut after a number of entries, with a note saying how many are not shown).
 */
import type { RequestContext } from '../../context.js';
import { formatSize } from '../../format.js';
import { html, type Html } from '../../html.js';
import { plural } from './plural.js';

export interface FileNode {
  kind: 'file';
  name: string;
  size: number;
}

export interface DirNode {
  kind: 'dir';
  name: string;
  /** Sum of the sizes of every file below. */
  size: number;
  /** Files below, at any depth. */
  fileCount: number;
  /** In the order of first appearance in the torrent. */
  children: Array<DirNode | FileNode>;
}

/** The tree of a torrent's files; the root is a nameless directory. */
export function buildFileTree(files: ReadonlyArray<{ path: string; size: number }>): DirNode {
  const root: DirNode = { kind: 'dir', name: '', size: 0, fileCount: 0, children: [] };
  const dirs = new Map<DirNode, Map<string, DirNode>>();
  for (const f of files) {
    const parts = f.path.split('/');
    const fileName = parts.pop()!;
    let node = root;
    node.size += f.size;
    node.fileCount++;
    for (const part of parts) {
      let sub = dirs.get(node)?.get(part);
      if (!sub) {
        sub = { kind: 'dir', name: part, size: 0, fileCount: 0, children: [] };
        node.children.push(sub);
        let m = dirs.get(node);
        if (!m) dirs.set(node, (m = new Map()));
        m.set(part, sub);
      }
      node = sub;
      node.size += f.size;
      node.fileCount++;
    }
    node.children.push({ kind: 'file', name: fileName, size: f.size });
  }
  return root;
}

/** Renders the tree as nested <ul>, at most `maxEntries` entries (directories and files). */
export function renderFileTree(ctx: RequestContext, root: DirNode, maxEntries = 2000): Html {
  const { t, locale } = ctx;
  let budget = maxEntries;
  let shownFiles = 0;
  const list = (dir: DirNode): Html => {
    const items: Html[] = [];
    for (const c of dir.children) {
      if (budget <= 0) break;
      budget--;
      if (c.kind === 'file') {
        shownFiles++;
        items.push(html`<li class="file"><span class="name">${c.name}</span> <span class="size">${formatSize(t, locale, c.size)}</span></li>`);
      } else {
        items.push(
          html`<li class="dir"><span class="name">${c.name}/</span> <span class="size">${formatSize(t, locale, c.size)} · ${plural(ctx, c.fileCount, 'torrent.files.count_one', 'torrent.files.count')}</span>${list(c)}</li>`,
        );
      }
    }
    return html`<ul>${items}</ul>`;
  };
  const body = list(root);
  const hidden = root.fileCount - shownFiles;
  return html`<div class="filetree">${body}${hidden > 0 ? html`<p class="note">${plural(ctx, hidden, 'torrent.files.more_one', 'torrent.files.more')}</p>` : ''}</div>`;
}
