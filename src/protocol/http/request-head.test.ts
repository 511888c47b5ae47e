import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRequestHead, type RequestHeadResult } from './request-head.js';

const MAX = 8192;

function parse(s: string | Buffer, max = MAX): RequestHeadResult {
  const buf = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return parseRequestHead(buf, 0, buf.length, max);
}

function ok(s: string | Buffer) {
  const r = parse(s);
  if (r.kind !== 'ok') assert.fail(`expected ok, got ${JSON.stringify(r)}`);
  return r;
}

function err(s: string | Buffer, status = 400, max = MAX): string {
  const r = parse(s, max);
  if (r.kind !== 'error') assert.fail(`expected error, got ${JSON.stringify(r)}`);
  assert.equal(r.status, status);
  return r.message;
}

void test('a typical announce head', () => {
  const s =
    'GET /announce?info_hash=%12%34&port=6881 HTTP/1.1\r\nHost: tracker.example:8080\r\n' +
    'User-Agent: qBittorrent/4.6.0\r\nAccept-Encoding: gzip\r\n\r\n';
  const r = ok(s);
  assert.deepEqual(r, {
    kind: 'ok',
    method: 'GET',
    target: '/announce?info_hash=%12%34&port=6881',
    path: '/announce',
    query: 'info_hash=%12%34&port=6881',
    httpMinor: 1,
    keepAlive: true,
    xForwardedFor: null,
    host: 'tracker.example:8080',
    contentLength: 0,
    headEnd: s.length,
  });
});

void test('start/end offsets, pipelining and body', () => {
  const a = 'GET /a HTTP/1.1\r\n\r\n';
  const b = 'POST /b?x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc';
  const buf = Buffer.from('junk' + a + b, 'latin1');
  const r1 = parseRequestHead(buf, 4, buf.length, MAX);
  assert.ok(r1.kind === 'ok');
  assert.equal(r1.path, '/a');
  assert.equal(r1.headEnd, 4 + a.length);
  const r2 = parseRequestHead(buf, r1.headEnd, buf.length, MAX);
  assert.ok(r2.kind === 'ok');
  assert.equal(r2.method, 'POST');
  assert.equal(r2.query, 'x');
  assert.equal(r2.contentLength, 3);
  assert.equal(r2.keepAlive, false);
  assert.equal(buf.toString('latin1', r2.headEnd), 'abc');
  // `end` bounds the scan even when the buffer holds more.
  assert.deepEqual(parseRequestHead(buf, 4, 4 + a.length - 1, MAX), { kind: 'incomplete' });
  // Nonsense offsets are clamped rather than thrown on.
  const clamped = parseRequestHead(buf, -5, 1e9, MAX);
  assert.ok(clamped.kind === 'ok' && clamped.method === 'junkGET');
  assert.deepEqual(parseRequestHead(buf, Number.NaN, buf.length, MAX), clamped);
});

void test('keep-alive rules', () => {
  assert.equal(ok('GET / HTTP/1.1\r\n\r\n').keepAlive, true);
  assert.equal(ok('GET / HTTP/1.1\r\nConnection: close\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: keep-alivex\r\n\r\n').keepAlive, false);
  assert.equal(ok('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').httpMinor, 0);
});

void test('headers: case-insensitive names, OWS trimming, X-Forwarded-For joining', () => {
  const r = ok(
    'GET / HTTP/1.1\nhOsT:   h  \nX-FORWARDED-FOR: 1.2.3.4, 5.6.7.8\nx-forwarded-for:9.9.9.9\t\nX-Forwarded-For:\ncontent-LENGTH: 0\n\n',
  );
  assert.equal(r.host, 'h');
  assert.equal(r.xForwardedFor, '1.2.3.4, 5.6.7.8,9.9.9.9');
  assert.equal(r.contentLength, 0);
  assert.equal(ok('GET / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n').contentLength, 7);
  // obs-text is allowed in values, and the host keeps its bytes.
  assert.equal(ok('GET / HTTP/1.1\r\nHost: \xe9\r\n\r\n').host, '\xe9');
});

void test('targets: raw bytes, absolute form, no query', () => {
  const r = ok(Buffer.concat([Buffer.from('GET /announce?info_hash='), Buffer.from([0x00, 0xff, 0x20, 0x7f]), Buffer.from(' HTTP/1.1\r\n\r\n')]));
  assert.equal(r.query, 'info_hash=\x00\xff \x7f', 'literal bytes, including a space, kept raw');
  assert.equal(ok('GET /a?b?c HTTP/1.1\r\n\r\n').query, 'b?c');
  assert.equal(ok('GET /a? HTTP/1.1\r\n\r\n').query, '');
  assert.equal(ok('GET /%41 HTTP/1.1\r\n\r\n').path, '/%41', 'never decoded');
  const abs = ok('GET http://tracker.example:80/pk/announce?x=1 HTTP/1.1\r\n\r\n');
  assert.equal(abs.path, '/pk/announce');
  assert.equal(abs.query, 'x=1');
  assert.equal(abs.target, 'http://tracker.example:80/pk/announce?x=1');
  assert.equal(ok('GET HTTPS://h HTTP/1.1\r\n\r\n').path, '/');
  assert.equal(ok('GET http://h?q HTTP/1.1\r\n\r\n').query, 'q');
  assert.equal(ok('\r\n\r\nGET / HTTP/1.1\r\n\r\n').path, '/', 'leading empty lines skipped');
});

void test('incomplete heads', () => {
  for (const s of ['', 'G', 'GET', 'GET /', 'GET / HTTP/1.1', 'GET / HTTP/1.1\r', 'GET / HTTP/1.1\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r', '\r\n']) {
    assert.deepEqual(parse(s), { kind: 'incomplete' }, JSON.stringify(s));
  }
});

void test('malformed heads are rejected with a status', () => {
  assert.equal(err('\x16\x03\x01\x02\x00'), 'invalid request method');
  assert.equal(err('GET'.padEnd(40, 'T') + ' / HTTP/1.1\r\n\r\n'), 'invalid request method');
  assert.equal(err(' GET / HTTP/1.1\r\n\r\n'), 'invalid request method');
  assert.equal(err('GET /\r\n\r\n'), 'invalid request line');
  assert.equal(err('GET  HTTP/1.1\r\n\r\n'), 'invalid request line');
  assert.equal(err('GET / HTTP/1.1 \r\n\r\n'), 'invalid HTTP version');
  assert.equal(err('GET / http/1.1\r\n\r\n'), 'invalid HTTP version');
  assert.equal(err('GET / HTTP/1.10\r\n\r\n'), 'invalid HTTP version');
  assert.equal(err('GET / HTTP/2.0\r\n\r\n', 505), 'HTTP version not supported');
  assert.equal(err('GET / HTTP/1.2\r\n\r\n', 505), 'HTTP version not supported');
  assert.equal(err('GET /a\rb HTTP/1.1\r\n\r\n'), 'bare CR in request line');
  assert.equal(err('GET  / HTTP/1.1\r\n\r\n'), 'invalid request target');
  assert.equal(err('GET * HTTP/1.1\r\n\r\n'), 'invalid request target');
  assert.equal(err('GET ftp://x/ HTTP/1.1\r\n\r\n'), 'invalid request target');
  assert.equal(err('GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n'), 'obsolete header line folding');
  assert.equal(err('GET / HTTP/1.1\r\nHost : a\r\n\r\n'), 'invalid header name');
  assert.equal(err('GET / HTTP/1.1\r\n: a\r\n\r\n'), 'invalid header name');
  assert.equal(err('GET / HTTP/1.1\r\nNoColon\r\n\r\n'), 'invalid header name');
  assert.equal(err('GET / HTTP/1.1\r\nX: a\rb\r\n\r\n'), 'invalid header value');
  assert.equal(err('GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n'), 'invalid header value');
  assert.equal(err('GET / HTTP/1.1\r\n\r\r\n\r\n'), 'invalid header name');
  assert.equal(err('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'), 'duplicate Host header');
  assert.equal(err('GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n'), 'invalid Content-Length');
  assert.equal(err('GET / HTTP/1.1\r\nContent-Length:\r\n\r\n'), 'invalid Content-Length');
  assert.equal(err('GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n'), 'invalid Content-Length');
  assert.equal(err('GET / HTTP/1.1\r\nContent-Length: 9999999999999999\r\n\r\n'), 'invalid Content-Length');
  assert.equal(err('GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'), 'conflicting Content-Length headers');
  assert.equal(err('GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'), 'Transfer-Encoding is not allowed on GET');
  assert.equal(err('POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n', 501), 'Transfer-Encoding is not supported');
});

void test('size limit: 414 for the request line, 431 for the head, exact boundary accepted', () => {
  const s = 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n';
  assert.equal(parse(s, s.length).kind, 'ok');
  assert.equal(err(s, 431, s.length - 1), 'request head too large');
  assert.equal(err(`GET /${'a'.repeat(100)}`, 414, 50), 'request line too long');
  assert.equal(err('GET / HTTP/1.1\r\n' + 'X: y\r\n'.repeat(100), 431, 200), 'request head too large');
  // Under the limit but unfinished: wait for more.
  assert.equal(parse('GET / HTTP/1.1\r\nX: y\r\n', 200).kind, 'incomplete');
  assert.equal(err('\r\n'.repeat(10), 414, 20), 'request line too long', 'leading empty lines count');
});

void test('property: arbitrary bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(400), (bytes, max) => {
      const buf = Buffer.from(bytes);
      const r = parseRequestHead(buf, 0, buf.length, max);
      if (r.kind === 'ok') assert.ok(r.headEnd <= buf.length && r.headEnd <= max);
    }),
    { numRuns: 3000 },
  );
  // Prefixes of printable junk with line structure, which reach deeper into the parser.
  const line = fc.stringMatching(/^[ -~\t\r]{0,30}$/);
  fc.assert(
    fc.property(fc.array(line, { maxLength: 8 }), fc.boolean(), (lines, crlf) => {
      const s = 'GET / HTTP/1.1' + (crlf ? '\r\n' : '\n') + lines.join(crlf ? '\r\n' : '\n') + '\r\n\r\n';
      parse(s);
    }),
    { numRuns: 1000 },
  );
});

const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~');
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const valueText = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789 .,:;/=\t'), maxLength: 20 })
  .map((s) => s.trim());
const reserved = new Set(['host', 'connection', 'content-length', 'x-forwarded-for', 'transfer-encoding']);

void test('property: heads we build parse back to the same fields; every prefix is incomplete', () => {
  fc.assert(
    fc.property(
      fc.record({
        method: fc.constantFrom('GET', 'HEAD', 'POST', 'DELETE', 'M-SEARCH'),
        path: fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 30 }).map((s) => '/' + s.replaceAll('?', '')),
        query: fc.option(fc.string({ unit: fc.integer({ min: 0x00, max: 0xff }).filter((c) => c !== 0x0a && c !== 0x0d).map((c) => String.fromCharCode(c)), maxLength: 60 }), { nil: null }),
        minor: fc.constantFrom(0 as const, 1 as const),
        connection: fc.constantFrom(null, 'close', 'keep-alive', 'Keep-Alive', 'upgrade'),
        host: fc.option(valueText, { nil: null }),
        xffs: fc.array(valueText.filter((v) => v.length > 0), { maxLength: 3 }),
        contentLength: fc.option(fc.nat(1_000_000), { nil: null }),
        others: fc.array(fc.tuple(token.filter((t) => !reserved.has(t.toLowerCase())), valueText), { maxLength: 5 }),
        crlf: fc.boolean(),
        caseFlip: fc.boolean(),
      }),
      (h) => {
        const nl = h.crlf ? '\r\n' : '\n';
        const name = (n: string) => (h.caseFlip ? n.toUpperCase() : n);
        const target = h.query === null ? h.path : `${h.path}?${h.query}`;
        const lines = [`${h.method} ${target} HTTP/1.${h.minor}`];
        if (h.host !== null) lines.push(`${name('Host')}: ${h.host}`);
        for (const [n, v] of h.others) lines.push(`${n}: ${v}`);
        if (h.connection !== null) lines.push(`${name('Connection')}: ${h.connection}`);
        for (const x of h.xffs) lines.push(`${name('X-Forwarded-For')}: ${x}`);
        if (h.contentLength !== null) lines.push(`${name('Content-Length')}: ${h.contentLength}`);
        const text = lines.join(nl) + nl + nl;
        const buf = Buffer.from(text + 'BODY', 'latin1');
        const r = parseRequestHead(buf, 0, buf.length, MAX);
        assert.ok(r.kind === 'ok', JSON.stringify(r));
        const conn = h.connection?.toLowerCase();
        assert.deepEqual(r, {
          kind: 'ok',
          method: h.method,
          target,
          path: h.path,
          query: h.query ?? '',
          httpMinor: h.minor,
          keepAlive: h.minor === 1 ? conn !== 'close' : conn === 'keep-alive',
          xForwardedFor: h.xffs.length === 0 ? null : h.xffs.join(','),
          host: h.host,
          contentLength: h.contentLength ?? 0,
          headEnd: text.length,
        });
        for (let cut = 0; cut < text.length; cut += 1 + (cut % 7)) {
          assert.deepEqual(parseRequestHead(buf, 0, cut, MAX), { kind: 'incomplete' }, `cut at ${cut}`);
        }
      },
    ),
    { numRuns: 500 },
  );
});
