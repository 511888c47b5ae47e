/**
 * The .torrent upload parser: validates an uploaded metainfo file completely (BEP 3 v1, BEP 52 v2
 * and hybrid torrents, BEP 47 padding files) and extracts what the directory needs.
 *
 * parseTorrentFile never throws: any input yields either a ParsedTorrent or a TorrentError whose
 * code is one of TORRENT_ERROR_CODES and whose English message names the defect (see errors.ts and
 * messages.ts). Uploads must be canonical bencoding, since the info hash is computed over the exact
 * bytes of the `info` dictionary and a re-encoded copy would hash differently.
 *
 * File paths are checked so that no client on any common system can be led outside the download
 * directory or into a file it cannot create: no empty, `.` or `..` components, no separators, no
 * control characters, valid UTF-8, no Windows device names, no trailing dot or space, at most 255
 * bytes per component, no duplicate paths and no path that is both a file and a directory.
 *
 * `files` lists the files as the metainfo names them: `[name]` for a single-file torrent, else the
 * path inside the torrent's directory (v1 `files[].path`, or the v2 `file tree` path). Padding
 * files are checked (their end must fall on a piece boundary) but left out of the list and totals.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { bdecode, findDictValueSpan, type BDict, type BValue } from '../protocol/bencode.js';
import {
  TORRENT_ERROR_CODES,
  type TorrentError,
  type TorrentErrorCode,
  type TorrentErrorParams,
} from './errors.js';
import { formatTorrentError } from './messages.js';
import { BLOCK_SIZE, rootFromPieceLayer } from './merkle.js';

export { TORRENT_ERROR_CODES };
export type { TorrentError, TorrentErrorCode, TorrentErrorParams };

export interface TorrentLimits {
  /** Largest accepted .torrent file, in bytes. */
  maxTorrentBytes: number;
  /** Most files (padding files not counted). */
  maxFiles: number;
  /** Largest single file, in bytes. */
  maxFileSize: number;
  /** Largest total content size, in bytes (padding not counted). */
  maxTotalSize: number;
  /** Most components in a file's path (the torrent's name not counted). */
  maxPathDepth: number;
}

export const DEFAULT_TORRENT_LIMITS: Readonly<TorrentLimits> = Object.freeze({
  maxTorrentBytes: 10 * 1024 * 1024,
  maxFiles: 100_000,
  maxFileSize: 2 ** 50,
  maxTotalSize: 2 ** 52,
  maxPathDepth: 64,
});

export type TorrentVersion = 'v1' | 'v2' | 'hybrid';

export interface TorrentFileEntry {
  path: string[];
  size: number;
}

export interface ParsedTorrent {
  /** The torrent's name (from `name.utf-8` when present, else `name`). */
  name: string;
  version: TorrentVersion;
  /** SHA-1 of infoBytes, 40 lowercase hex digits; null for a v2-only torrent. */
  infoHashV1: string | null;
  /** SHA-256 of infoBytes, 64 lowercase hex digits; null for a v1-only torrent. */
  infoHashV2: string | null;
  pieceLength: number;
  /** Padding files excluded. */
  files: TorrentFileEntry[];
  /** Sum of files[].size. */
  totalSize: number;
  isPrivate: boolean;
  /** info.source */
  source: string | null;
  comment: string | null;
  createdBy: string | null;
  /** Seconds since the Unix epoch. */
  creationDate: number | null;
  /** The exact bytes of the `info` dictionary as found in the input (a copy). */
  infoBytes: Buffer;
  /** The exact bytes of the top-level `piece layers` dictionary (a copy), or null when absent. */
  pieceLayers: Buffer | null;
}

export type ParseResult = { ok: true; torrent: ParsedTorrent } | { ok: false; error: TorrentError };

/* ----------------------------------------------------------------------------------------------
 * Errors
 * -------------------------------------------------------------------------------------------- */

export function makeTorrentError(code: TorrentErrorCode, params: TorrentErrorParams = {}): TorrentError {
  return { code, message: formatTorrentError({ code, params }, 'en'), params };
}

/** Thrown inside the parser only; parseTorrentFile turns it into a result. */
class Rejection extends Error {
  constructor(readonly error: TorrentError) {
    super(error.message);
  }
}

function reject(code: TorrentErrorCode, params: TorrentErrorParams = {}): never {
  throw new Rejection(makeTorrentError(code, params));
}

/* ----------------------------------------------------------------------------------------------
 * Display helpers (what messages show of untrusted bytes)
 * -------------------------------------------------------------------------------------------- */

const MAX_SHOWN_CHARS = 120;

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/**
 * Shows bytes as text safe to put in a message: valid UTF-8 is shown as text with control
 * characters escaped as \xNN; invalid UTF-8 shows printable ASCII as is and every other byte as
 * \xNN. Long values are cut with an ellipsis.
 */
export function displayBytes(bytes: Uint8Array): string {
  let out = '';
  if (isUtf8(bytes)) {
    for (const ch of Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) {
      const c = ch.codePointAt(0)!;
      out += c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) ? `\\x${hex2(c)}` : ch;
      if (out.length > MAX_SHOWN_CHARS) return out.slice(0, MAX_SHOWN_CHARS) + '…';
    }
    return out;
  }
  for (const b of bytes) {
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${hex2(b)}`;
    if (out.length > MAX_SHOWN_CHARS) return out.slice(0, MAX_SHOWN_CHARS) + '…';
  }
  return out;
}

const SIMPLE_KEY = /^[A-Za-z][A-Za-z0-9 ._-]*$/;

/** Appends a dict key to a field path: `info` + `files` -> `info.files`, odd keys bracketed. */
function childField(parent: string, key: string | Buffer): string {
  const text = typeof key === 'string' ? displayBytes(Buffer.from(key, 'latin1')) : displayBytes(key);
  if (typeof key === 'string' && SIMPLE_KEY.test(key) && !key.endsWith('.')) {
    return parent === '' ? key : `${parent}.${key}`;
  }
  return `${parent}[${JSON.stringify(text)}]`;
}

/** A v2 file tree path, always bracketed: `info.file tree["dir"]["a.txt"]`. */
function treeField(parent: string, key: Buffer): string {
  return `${parent}[${JSON.stringify(displayBytes(key))}]`;
}

/** A field path, or a function computing it: paths are only built when an error needs one. */
type Field = string | (() => string);

function fieldText(f: Field): string {
  return typeof f === 'string' ? f : f();
}

type BType = 'integer' | 'string' | 'list' | 'dict';

function typeOf(v: BValue): BType {
  if (typeof v === 'number' || typeof v === 'bigint') return 'integer';
  if (Buffer.isBuffer(v)) return 'string';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/* ----------------------------------------------------------------------------------------------
 * Non-canonical encodings: where is the defect?
 * -------------------------------------------------------------------------------------------- */

interface Located {
  /** Path of the dict whose key is at the offset ('(root)' for the top level), or null. */
  dict: string | null;
  key: string | null;
  /** Path of the value at the offset ('(root)' for the top level). */
  field: string;
}

/** Field path of a dict entry, written as the validation errors write it. */
function locatedChild(parent: string, key: string): string {
  if (parent === 'info.file tree' || parent.startsWith('info.file tree[')) return treeField(parent, Buffer.from(key, 'latin1'));
  if (parent === 'piece layers') return `piece layers[${JSON.stringify(Buffer.from(key, 'latin1').toString('hex'))}]`;
  return childField(parent, key);
}

/**
 * Finds what sits at `target` in `buf`, which must be loosely valid bencoding (non-strict bdecode
 * succeeded on it). Returns the path of the value starting there, or of the dict whose key starts
 * there.
 */
function locate(buf: Buffer, target: number): Located {
  let found: Located | null = null;
  const walk = (pos: number, path: string): number => {
    if (found !== null) return pos;
    const c = buf[pos]!;
    if (pos === target) found = { dict: null, key: null, field: path === '' ? '(root)' : path };
    if (c >= 0x30 && c <= 0x39) {
      const colon = buf.indexOf(0x3a, pos);
      return colon + 1 + Number(buf.toString('latin1', pos, colon));
    }
    if (c === 0x69) return buf.indexOf(0x65, pos) + 1;
    let p = pos + 1;
    let i = 0;
    while (buf[p] !== 0x65 && found === null) {
      if (c === 0x64) {
        const keyAt = p;
        const colon = buf.indexOf(0x3a, p);
        const ks = colon + 1;
        const ke = ks + Number(buf.toString('latin1', p, colon));
        const key = buf.toString('latin1', ks, ke);
        if (keyAt === target) {
          found = { dict: path === '' ? '(root)' : path, key: displayBytes(buf.subarray(ks, ke)), field: path };
          return p;
        }
        p = walk(ke, locatedChild(path, key));
      } else {
        p = walk(p, `${path}[${i}]`);
      }
      i++;
    }
    return p + 1;
  };
  walk(0, '');
  return found ?? { dict: null, key: null, field: '(root)' };
}

function rejectNonCanonical(buf: Buffer, error: string, offset: number): never {
  const at = locate(buf, offset);
  if (error.startsWith('unsorted dict key')) {
    reject('unsorted_keys', { dict: at.dict ?? at.field, key: at.key ?? '', offset });
  }
  if (error.startsWith('duplicate dict key')) {
    reject('duplicate_key', { dict: at.dict ?? at.field, key: at.key ?? '', offset });
  }
  if (error.startsWith('integer with leading zero') || error.startsWith('negative zero')) {
    reject('non_canonical_integer', { field: at.field, offset });
  }
  if (error.startsWith('string length with leading zero')) {
    // The defect may be in a dict key: then name the dict and the key.
    const field = at.dict !== null ? `${at.dict} key '${at.key ?? ''}'` : at.field;
    reject('non_canonical_string_length', { field, offset });
  }
  reject('not_bencoded', { detail: error, offset });
}

/* ----------------------------------------------------------------------------------------------
 * Field access
 * -------------------------------------------------------------------------------------------- */

function expectType(v: BValue, type: BType, field: Field): void {
  if (typeOf(v) !== type) reject('wrong_type', { field: fieldText(field), expected: type });
}

/** The value of `key`, checked for type; reports `parent.key` as missing or mistyped. */
function getTyped(d: BDict, key: string, parent: Field, required: boolean, type: BType): BValue | undefined {
  const v = d.get(key);
  if (v === undefined) {
    if (required) reject('missing_field', { field: childField(fieldText(parent), key) });
    return undefined;
  }
  if (typeOf(v) !== type) reject('wrong_type', { field: childField(fieldText(parent), key), expected: type });
  return v;
}

function getDict(d: BDict, key: string, parent: Field, required: true): BDict;
function getDict(d: BDict, key: string, parent: Field, required: boolean): BDict | undefined;
function getDict(d: BDict, key: string, parent: Field, required: boolean): BDict | undefined {
  return getTyped(d, key, parent, required, 'dict') as BDict | undefined;
}

function getString(d: BDict, key: string, parent: Field, required: true): Buffer;
function getString(d: BDict, key: string, parent: Field, required: boolean): Buffer | undefined;
function getString(d: BDict, key: string, parent: Field, required: boolean): Buffer | undefined {
  return getTyped(d, key, parent, required, 'string') as Buffer | undefined;
}

function getList(d: BDict, key: string, parent: Field, required: true): BValue[];
function getList(d: BDict, key: string, parent: Field, required: boolean): BValue[] | undefined;
function getList(d: BDict, key: string, parent: Field, required: boolean): BValue[] | undefined {
  return getTyped(d, key, parent, required, 'list') as BValue[] | undefined;
}

function getInt(d: BDict, key: string, parent: Field, required: true): number | bigint;
function getInt(d: BDict, key: string, parent: Field, required: boolean): number | bigint | undefined;
function getInt(d: BDict, key: string, parent: Field, required: boolean): number | bigint | undefined {
  return getTyped(d, key, parent, required, 'integer') as number | bigint | undefined;
}

function optionalText(d: BDict, key: string, parent: string): string | null {
  const v = getString(d, key, parent, false);
  return v === undefined ? null : v.toString('utf8');
}

/* ----------------------------------------------------------------------------------------------
 * Sizes and paths
 * -------------------------------------------------------------------------------------------- */

interface Ctx {
  limits: TorrentLimits;
  /** Real files seen so far (padding excluded). */
  fileCount: number;
  /** Real bytes seen so far (padding excluded). */
  total: number;
}

/** A file length: a non-negative integer within the limits. Counts it towards the total. */
function checkSize(ctx: Ctx, v: number | bigint, field: Field, padding: boolean): number {
  const { limits } = ctx;
  if (v < 0) reject('negative_size', { field: fieldText(field), size: v.toString() });
  if (typeof v === 'bigint' || v > limits.maxFileSize) {
    reject('file_too_large', { field: fieldText(field), size: v.toString(), max: limits.maxFileSize });
  }
  if (!padding) {
    ctx.total += v;
    if (ctx.total > limits.maxTotalSize) reject('total_too_large', { size: ctx.total, max: limits.maxTotalSize });
  }
  return v;
}

function countFile(ctx: Ctx): void {
  ctx.fileCount++;
  if (ctx.fileCount > ctx.limits.maxFiles) reject('too_many_files', { count: ctx.fileCount, max: ctx.limits.maxFiles });
}

const MAX_COMPONENT_BYTES = 255;
const WINDOWS_DEVICE = /^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])$/i;

function failComponent(code: TorrentErrorCode, bytes: Buffer, field: Field, extra: TorrentErrorParams = {}): never {
  reject(code, { field: fieldText(field), component: displayBytes(bytes), ...extra });
}

/**
 * Checks one path component (or the torrent name). `utf8Required` is false only for a legacy
 * `path`/`name` whose `.utf-8` twin is present (and checked), since clients use the twin.
 */
function checkComponent(bytes: Buffer, field: Field, utf8Required: boolean): void {
  if (bytes.length === 0) reject('path_component_empty', { field: fieldText(field) });
  if (bytes.includes(0x2f) || bytes.includes(0x5c)) failComponent('path_component_separator', bytes, field);
  if ((bytes.length === 1 && bytes[0] === 0x2e) || (bytes.length === 2 && bytes[0] === 0x2e && bytes[1] === 0x2e)) {
    failComponent('path_component_dot', bytes, field);
  }
  let ascii = true;
  for (const b of bytes) {
    if (b < 0x20 || b === 0x7f) failComponent('path_component_control_char', bytes, field, { char: `0x${hex2(b)}` });
    if (b >= 0x80) ascii = false;
  }
  if (!ascii) {
    if (!isUtf8(bytes)) {
      if (utf8Required) failComponent('path_component_invalid_utf8', bytes, field);
    } else {
      // C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) are as unprintable as C0 ones.
      for (let i = 0; i + 1 < bytes.length; i++) {
        if (bytes[i] === 0xc2 && bytes[i + 1]! >= 0x80 && bytes[i + 1]! < 0xa0) {
          failComponent('path_component_control_char', bytes, field, { char: `U+00${hex2(bytes[i + 1]!).toUpperCase()}` });
        }
      }
    }
  }
  if (bytes.length > MAX_COMPONENT_BYTES) failComponent('path_component_too_long', bytes, field, { bytes: bytes.length, max: MAX_COMPONENT_BYTES });
  const last = bytes[bytes.length - 1];
  if (last === 0x2e || last === 0x20) failComponent('path_component_trailing_dot_space', bytes, field);
  // A device name is reserved whatever its extension ("CON", "con.txt", "Com1 .tar.gz").
  const dot = bytes.indexOf(0x2e);
  const stemEnd = dot < 0 ? bytes.length : dot;
  const first = bytes[0]! | 0x20; // lower case for ASCII letters
  if (stemEnd >= 3 && stemEnd <= 8 && (first === 0x63 || first === 0x70 || first === 0x61 || first === 0x6e || first === 0x6c)) {
    const stem = bytes.toString('latin1', 0, stemEnd).replace(/ +$/, '');
    if (WINDOWS_DEVICE.test(stem)) failComponent('path_component_reserved_name', bytes, field);
  }
}

/** Checks a whole path (list of components) and returns it decoded. */
function checkPath(ctx: Ctx, comps: Buffer[], field: string, utf8Required: boolean): string[] {
  if (comps.length === 0) reject('path_empty', { field });
  if (comps.length > ctx.limits.maxPathDepth) {
    reject('path_too_deep', { field, depth: comps.length, max: ctx.limits.maxPathDepth });
  }
  for (let i = 0; i < comps.length; i++) checkComponent(comps[i]!, () => `${field}[${i}]`, utf8Required);
  return comps.map((c) => c.toString('utf8'));
}

interface DirNode {
  /** File name -> field of the file entry. */
  files: Map<string, string>;
  /** Directory name -> its node, and the field of the first file that made it. */
  dirs: Map<string, { node: DirNode; field: string }>;
}

/** Detects duplicate paths and paths that are both a file and a directory (a trie of names). */
class PathSet {
  private readonly root: DirNode = { files: new Map(), dirs: new Map() };

  add(path: string[], field: string): void {
    let node = this.root;
    const last = path.length - 1;
    for (let i = 0; i < last; i++) {
      const name = path[i]!;
      const file = node.files.get(name);
      if (file !== undefined) reject('path_conflict', { field, path: path.slice(0, i + 1).join('/'), other: file });
      let dir = node.dirs.get(name);
      if (dir === undefined) {
        dir = { node: { files: new Map(), dirs: new Map() }, field };
        node.dirs.set(name, dir);
      }
      node = dir.node;
    }
    const name = path[last]!;
    const dup = node.files.get(name);
    if (dup !== undefined) reject('duplicate_path', { field, path: path.join('/'), other: dup });
    const dir = node.dirs.get(name);
    if (dir !== undefined) reject('path_conflict', { field, path: path.join('/'), other: dir.field });
    node.files.set(name, field);
  }
}

/* ----------------------------------------------------------------------------------------------
 * v1 (BEP 3, BEP 47)
 * -------------------------------------------------------------------------------------------- */

interface FileOut extends TorrentFileEntry {
  field: Field;
}

function parseV1Files(ctx: Ctx, info: BDict, name: string, pieceLength: number): FileOut[] {
  const pieces = getString(info, 'pieces', 'info', true);
  if (pieces.length % 20 !== 0) reject('bad_pieces_length', { length: pieces.length });
  const length = getInt(info, 'length', 'info', false);
  const files = getList(info, 'files', 'info', false);
  if (length !== undefined && files !== undefined) reject('conflicting_fields', { field: 'info.length', other: 'info.files' });
  if (length === undefined && files === undefined) reject('missing_field', { field: 'info.files' });

  const out: FileOut[] = [];
  let v1Total = 0; // padding included: what the pieces cover
  if (length !== undefined) {
    countFile(ctx);
    const size = checkSize(ctx, length, 'info.length', false);
    v1Total = size;
    out.push({ path: [name], size, field: 'info' });
  } else {
    const list = files!;
    if (list.length === 0) reject('no_files', { field: 'info.files' });
    const paths = new PathSet();
    list.forEach((entry, i) => {
      const field = `info.files[${i}]`;
      expectType(entry, 'dict', field);
      const f = entry as BDict;
      const attr = getString(f, 'attr', field, false);
      const padding = attr !== undefined && attr.includes(0x70); // 'p'
      if (!padding) countFile(ctx);
      const size = checkSize(ctx, getInt(f, 'length', field, true), `${field}.length`, padding);
      const path = readPathList(ctx, f, field);
      if (padding) {
        const end = v1Total + size;
        if (size >= pieceLength || end % pieceLength !== 0) {
          reject('bad_padding', { field, size, end, pieceLength });
        }
      } else {
        paths.add(path, field);
        out.push({ path, size, field });
      }
      v1Total += size;
    });
  }
  const count = pieces.length / 20;
  const expected = Math.ceil(v1Total / pieceLength);
  if (count !== expected) reject('pieces_count_mismatch', { count, expected, totalSize: v1Total, pieceLength });
  return out;
}

/** Reads and checks `path` (and `path.utf-8`, preferred when present) of a v1 file entry. */
function readPathList(ctx: Ctx, f: BDict, field: string): string[] {
  const read = (key: string): Buffer[] | undefined => {
    const list = getList(f, key, field, key === 'path');
    if (list === undefined) return undefined;
    return list.map((c, j) => {
      expectType(c, 'string', () => `${childField(field, key)}[${j}]`);
      return c as Buffer;
    });
  };
  const raw = read('path')!;
  const utf8 = read('path.utf-8');
  const rawField = childField(field, 'path');
  const rawPath = checkPath(ctx, raw, rawField, utf8 === undefined);
  if (utf8 === undefined) return rawPath;
  const utf8Field = childField(field, 'path.utf-8');
  return checkPath(ctx, utf8, utf8Field, true);
}

/* ----------------------------------------------------------------------------------------------
 * v2 (BEP 52)
 * -------------------------------------------------------------------------------------------- */

interface V2File extends FileOut {
  root: Buffer | null;
}

function parseFileTree(ctx: Ctx, info: BDict): V2File[] {
  const tree = getDict(info, 'file tree', 'info', true);
  if (tree.size === 0) reject('no_files', { field: 'info.file tree' });
  const out: V2File[] = [];
  const walk = (node: BDict, path: string[], field: Field): void => {
    const fileEntry = node.get('');
    if (fileEntry !== undefined) {
      if (node.size !== 1) reject('file_tree_mixed_node', { field: fieldText(field) });
      if (path.length === 0) reject('path_empty', { field: fieldText(field) });
      const entryField = (): string => treeField(fieldText(field), Buffer.alloc(0));
      expectType(fileEntry, 'dict', entryField);
      const e = fileEntry as BDict;
      countFile(ctx);
      const size = checkSize(ctx, getInt(e, 'length', entryField, true), () => `${fieldText(field)}.length`, false);
      let root: Buffer | null = null;
      if (size > 0) {
        root = getString(e, 'pieces root', entryField, true);
        if (root.length !== 32) reject('bad_pieces_root', { field: fieldText(field), length: root.length });
      }
      out.push({ path, size, field, root });
      return;
    }
    if (node.size === 0) reject('file_tree_empty_directory', { field: fieldText(field) });
    if (path.length + 1 > ctx.limits.maxPathDepth) {
      reject('path_too_deep', { field: fieldText(field), depth: path.length + 1, max: ctx.limits.maxPathDepth });
    }
    for (const [key, child] of node) {
      const bytes = Buffer.from(key, 'latin1');
      const childF = (): string => treeField(fieldText(field), bytes);
      checkComponent(bytes, childF, true);
      expectType(child, 'dict', childF);
      walk(child as BDict, [...path, bytes.toString('utf8')], childF);
    }
  };
  walk(tree, [], 'info.file tree');
  return out;
}

function checkPieceLayers(top: BDict, files: V2File[], pieceLength: number): void {
  const layers = getDict(top, 'piece layers', '', false);
  const needed = new Map<string, V2File>(); // pieces root (latin1) -> first file with it
  for (const f of files) {
    if (f.root !== null && f.size > pieceLength && !needed.has(f.root.toString('latin1'))) {
      needed.set(f.root.toString('latin1'), f);
    }
  }
  if (needed.size > 0 && layers === undefined) reject('missing_field', { field: 'piece layers' });
  if (layers === undefined) return;
  for (const key of layers.keys()) {
    if (!needed.has(key)) reject('piece_layer_unused', { root: Buffer.from(key, 'latin1').toString('hex') });
  }
  for (const [key, f] of needed) {
    const root = f.root!.toString('hex');
    const layer = layers.get(key);
    if (layer === undefined) reject('missing_piece_layer', { field: fieldText(f.field), root });
    expectType(layer, 'string', `piece layers[${JSON.stringify(root)}]`);
    const expected = 32 * Math.ceil(f.size / pieceLength);
    const bytes = layer as Buffer;
    if (bytes.length !== expected) reject('bad_piece_layer_length', { field: fieldText(f.field), root, length: bytes.length, expected });
    if (!rootFromPieceLayer(bytes, pieceLength).equals(f.root!)) reject('piece_layer_mismatch', { field: fieldText(f.field), root });
  }
}

/* ----------------------------------------------------------------------------------------------
 * The parser
 * -------------------------------------------------------------------------------------------- */

function resolveLimits(partial: Partial<TorrentLimits> | undefined): TorrentLimits {
  const limits: TorrentLimits = { ...DEFAULT_TORRENT_LIMITS };
  if (partial !== undefined) {
    for (const k of Object.keys(limits) as Array<keyof TorrentLimits>) {
      const v = partial[k];
      if (typeof v === 'number' && !Number.isNaN(v)) limits[k] = Math.min(v, Number.MAX_SAFE_INTEGER);
    }
  }
  return limits;
}

function isPowerOfTwoAtLeast(n: number, min: number): boolean {
  let p = min;
  while (p < n) p *= 2;
  return p === n;
}

function readName(ctx: Ctx, info: BDict): string {
  const raw = getString(info, 'name', 'info', true);
  const utf8 = getString(info, 'name.utf-8', 'info', false);
  checkComponent(raw, 'info.name', utf8 === undefined);
  if (utf8 === undefined) return raw.toString('utf8');
  checkComponent(utf8, 'info.name.utf-8', true);
  return utf8.toString('utf8');
}

function parse(buf: Buffer, limits: TorrentLimits): ParsedTorrent {
  if (buf.length > limits.maxTorrentBytes) reject('too_large', { size: buf.length, max: limits.maxTorrentBytes });
  const strict = bdecode(buf, { strict: true });
  if (!strict.ok) {
    // Tell "not bencoding at all" and "trailing data" apart from "not canonical".
    const loose = bdecode(buf);
    if (!loose.ok) reject('not_bencoded', { detail: loose.error, offset: loose.offset });
    if (loose.end !== buf.length) reject('trailing_data', { offset: loose.end, count: buf.length - loose.end });
    rejectNonCanonical(buf, strict.error, strict.offset);
  }
  const top = strict.value;
  if (!(top instanceof Map)) reject('not_a_dictionary', { type: typeOf(top) });
  const infoV = top.get('info');
  if (infoV === undefined) reject('missing_info');
  expectType(infoV, 'dict', 'info');
  const info = infoV as BDict;
  const span = findDictValueSpan(buf, 'info', { strict: true });
  if (span === null) reject('internal_error', { detail: 'info span not found' });
  const infoBytes = Buffer.from(buf.subarray(span.start, span.end));

  const ctx: Ctx = { limits, fileCount: 0, total: 0 };
  const name = readName(ctx, info);

  const pl = getInt(info, 'piece length', 'info', true);
  if (typeof pl !== 'number' || !isPowerOfTwoAtLeast(pl, BLOCK_SIZE)) {
    reject('bad_piece_length', { pieceLength: pl.toString() });
  }
  const pieceLength = pl;

  const metaVersion = getInt(info, 'meta version', 'info', false);
  if (metaVersion !== undefined && metaVersion !== 2) reject('unsupported_meta_version', { version: metaVersion.toString() });
  const hasV2 = metaVersion === 2;
  const hasV1 = !hasV2 || info.has('pieces') || info.has('files') || info.has('length');

  let files: FileOut[];
  if (hasV1 && hasV2) {
    const v1 = parseV1Files(ctx, info, name, pieceLength);
    const v2 = parseFileTree({ limits, fileCount: 0, total: 0 }, info);
    checkPieceLayers(top, v2, pieceLength);
    if (v1.length !== v2.length) reject('hybrid_file_count_mismatch', { v1: v1.length, v2: v2.length });
    v1.forEach((a, i) => {
      const b = v2[i]!;
      const ap = a.path.join('/');
      const bp = b.path.join('/');
      if (ap !== bp || a.size !== b.size) {
        reject('hybrid_file_mismatch', { index: i, v1Path: ap, v1Size: a.size, v2Path: bp, v2Size: b.size });
      }
    });
    files = v1;
  } else if (hasV2) {
    files = parseFileTree(ctx, info);
    checkPieceLayers(top, files as V2File[], pieceLength);
  } else {
    files = parseV1Files(ctx, info, name, pieceLength);
  }
  if (ctx.total === 0) reject('empty_torrent');

  const priv = getInt(info, 'private', 'info', false);
  const date = getInt(top, 'creation date', '', false);
  const pieceLayersSpan = top.has('piece layers') ? findDictValueSpan(buf, 'piece layers', { strict: true }) : null;
  return {
    name,
    version: hasV1 && hasV2 ? 'hybrid' : hasV2 ? 'v2' : 'v1',
    infoHashV1: hasV1 ? createHash('sha1').update(infoBytes).digest('hex') : null,
    infoHashV2: hasV2 ? createHash('sha256').update(infoBytes).digest('hex') : null,
    pieceLength,
    files: files.map((f) => ({ path: f.path, size: f.size })),
    totalSize: ctx.total,
    isPrivate: priv !== undefined && priv !== 0,
    source: optionalText(info, 'source', 'info'),
    comment: optionalText(top, 'comment', ''),
    createdBy: optionalText(top, 'created by', ''),
    creationDate: typeof date === 'number' ? date : null,
    infoBytes,
    pieceLayers: pieceLayersSpan === null ? null : Buffer.from(buf.subarray(pieceLayersSpan.start, pieceLayersSpan.end)),
  };
}

/**
 * Parses and validates an uploaded .torrent file. Never throws. `limits` overrides some of
 * DEFAULT_TORRENT_LIMITS.
 */
export function parseTorrentFile(bytes: Uint8Array, limits?: Partial<TorrentLimits>): ParseResult {
  try {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { ok: true, torrent: parse(buf, resolveLimits(limits)) };
  } catch (e) {
    if (e instanceof Rejection) return { ok: false, error: e.error };
    let detail = 'unknown error';
    try {
      detail = e instanceof Error ? e.message : String(e);
    } catch {
      // keep the generic detail
    }
    return { ok: false, error: makeTorrentError('internal_error', { detail }) };
  }
}

export { prepareForSite, personaliseTorrent, type SiteTorrent, type PersonaliseOptions } from './site-torrent.js';
