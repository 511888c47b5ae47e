import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from './log.js';

test('redactUrl hides passkeys in paths and secret query parameters', () => {
  const pk = '0123456789abcdef0123456789abcdef';
  assert.equal(redactUrl(`/${pk}/announce?info_hash=x`), '/<redacted>/announce?info_hash=x');
  assert.equal(redactUrl(`http://h:1/${pk}`), 'http://h:1/<redacted>');
  assert.equal(redactUrl('/rss?rsskey=abc&cat=1'), '/rss?rsskey=<redacted>&cat=1');
  assert.equal(redactUrl('/api?apikey=zzz'), '/api?apikey=<redacted>');
  assert.equal(redactUrl('/torrents/12'), '/torrents/12');
});

test('the logger never writes a passkey, password or token', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: 'info', destination: sink });
  const pk = 'fedcba9876543210fedcba9876543210';
  log.info({ url: `/${pk}/announce`, passkey: pk, user: { password: 'hunter2', token: 'tok' } }, 'hello');
  const out = lines.join('');
  assert.ok(out.includes('hello'), 'out.includes(\'hello\')');
  assert.ok(!out.includes(pk), out);
  assert.ok(!out.includes('hunter2'), out);
  assert.ok(!out.includes('"tok"'), out);
});
