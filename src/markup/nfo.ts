/**
 * NFO files: the plain-text "release notes" that come with scene and P2P
 * releases, traditionally drawn with IBM PC code page 437 box-drawing and
 * block characters.
 *
 * Design: this module only turns bytes into a JavaScript string. It never
 * produces HTML; the caller escapes the result and shows it in a `<pre>`
 * (with a monospace font that has the box-drawing glyphs).
 *
 * - The input is capped first (64 KiB by default, `maxBytes` to change it):
 *   anything after the cap is ignored, so a hostile upload cannot make the
 *   page arbitrarily large.
 * - A file that starts with a UTF-8 byte-order mark and is valid UTF-8 is
 *   decoded as UTF-8 (the mark is dropped). Everything else is CP437.
 * - CP437 is decoded with the full 256-entry table. Bytes 0x01-0x1F and 0x7F
 *   become their CP437 graphic glyphs (☺ ♥ ► ⌂ …) except TAB, LF and CR,
 *   which stay whitespace; 0x00, a blank cell on a PC screen, becomes a space.
 * - A SAUCE metadata record (as left by ANSI art editors) and the trailing
 *   0x1A end-of-file marker(s) are removed.
 * - CRLF and lone CR line ends become LF.
 */

/** Default cap on the number of input bytes looked at. */
export const NFO_DEFAULT_MAX_BYTES = 64 * 1024;

/** Glyphs of CP437 bytes 0x00-0x1F (0x00 is shown blank; TAB, LF and CR are handled separately). */
const LOW_GLYPHS = ' ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼';

/** CP437 bytes 0x80-0xFF. 0xFF is a no-break space. */
const HIGH_GLYPHS =
  'ÇüéâäàåçêëèïîìÄÅ' +
  'ÉæÆôöòûùÿÖÜ¢£¥₧ƒ' +
  'áíóúñÑªº¿⌐¬½¼¡«»' +
  '░▒▓│┤╡╢╖╕╣║╗╝╜╛┐' +
  '└┴┬├─┼╞╟╚╔╩╦╠═╬╧' +
  '╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀' +
  'αßΓπΣσµτΦΘΩδ∞φε∩' +
  '≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/** The full table, byte value → one character. Built once. */
const CP437: readonly string[] = (() => {
  const table: string[] = new Array<string>(256);
  const low = Array.from(LOW_GLYPHS);
  const high = Array.from(HIGH_GLYPHS);
  if (low.length !== 32 || high.length !== 128) throw new Error('CP437 table is malformed');
  for (let b = 0; b < 32; b++) table[b] = low[b] as string;
  for (let b = 32; b < 127; b++) table[b] = String.fromCharCode(b);
  table[0x7f] = '⌂';
  for (let b = 128; b < 256; b++) table[b] = high[b - 128] as string;
  // These three stay whitespace rather than showing ○ ◙ ♪.
  table[0x09] = '\t';
  table[0x0a] = '\n';
  table[0x0d] = '\r';
  return table;
})();

/** The character CP437 byte `b` stands for in an NFO (exported for tests and the docs). */
export function cp437Char(b: number): string {
  const c = CP437[b & 0xff];
  if (c === undefined) throw new RangeError('byte out of range');
  return c;
}

export interface DecodeNfoOptions {
  /** Only this many leading bytes are decoded (default {@link NFO_DEFAULT_MAX_BYTES}). */
  maxBytes?: number;
}

const SAUCE_SIZE = 128;

/** Drops a SAUCE record (and its optional comment block) from the end of the bytes. */
function stripSauce(bytes: Uint8Array): Uint8Array {
  if (bytes.length < SAUCE_SIZE) return bytes;
  const start = bytes.length - SAUCE_SIZE;
  const id = String.fromCharCode(...bytes.subarray(start, start + 7));
  if (id !== 'SAUCE00') return bytes;
  let end = start;
  const comments = bytes[start + 104] ?? 0;
  if (comments > 0) {
    const commentStart = start - 5 - comments * 64;
    if (commentStart >= 0 && String.fromCharCode(...bytes.subarray(commentStart, commentStart + 5)) === 'COMNT') {
      end = commentStart;
    }
  }
  return bytes.subarray(0, end);
}

/** Removes trailing 0x1A end-of-file markers. */
function stripEofMarkers(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0x1a) end--;
  return bytes.subarray(0, end);
}

/** Drops an incomplete UTF-8 sequence cut in half at the end (by the size cap). */
function trimPartialUtf8(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back] as number;
    if ((b & 0xc0) === 0x80) continue; // continuation byte, keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? bytes.subarray(0, n - back) : bytes;
  }
  return bytes;
}

function tryUtf8WithBom(bytes: Uint8Array, truncated: boolean): string | null {
  if (bytes.length < 3 || bytes[0] !== 0xef || bytes[1] !== 0xbb || bytes[2] !== 0xbf) return null;
  const body = truncated ? trimPartialUtf8(bytes.subarray(3)) : bytes.subarray(3);
  try {
    // A NUL has no business in text shown in HTML; show it blank like the CP437 path does.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body).replace(/\0/g, ' ');
  } catch {
    return null;
  }
}

/**
 * Decodes the bytes of an NFO file to text (CP437, or UTF-8 when the file
 * starts with a UTF-8 byte-order mark and is valid UTF-8).
 *
 * Only the first `maxBytes` bytes (64 KiB by default) are decoded. Line ends
 * are normalised to LF; a trailing 0x1A end-of-file marker and a SAUCE record
 * are removed. The result is plain text: escape it before putting it in HTML.
 */
export function decodeNfo(bytes: Uint8Array, opts: DecodeNfoOptions = {}): string {
  const max = opts.maxBytes ?? NFO_DEFAULT_MAX_BYTES;
  if (!Number.isFinite(max) || max < 0) throw new RangeError('maxBytes must be a non-negative number');
  const truncated = bytes.length > max;
  let data = truncated ? bytes.subarray(0, Math.floor(max)) : bytes;
  data = stripEofMarkers(stripSauce(data));

  const utf8 = tryUtf8WithBom(data, truncated);
  let text: string;
  if (utf8 !== null) {
    text = utf8;
  } else {
    const parts: string[] = new Array<string>(data.length);
    for (let i = 0; i < data.length; i++) parts[i] = CP437[data[i] as number] as string;
    text = parts.join('');
  }
  return text.replace(/\r\n?/g, '\n');
}
