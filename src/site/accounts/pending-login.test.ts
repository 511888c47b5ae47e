import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PENDING_LOGIN_TTL, readPendingLogin, signPendingLogin } from './pending-login.js';

describe('pending two-factor login token', () => {
  const secret = Buffer.alloc(32, 7);
  const binding = 'browser-csrf-cookie-value';
  const p = { userId: 42, remember: true, expires: 1_000 + PENDING_LOGIN_TTL };

  it('round-trips the member, the remember flag and the expiry', () => {
    const tok = signPendingLogin(secret, p, binding);
    assert.deepEqual(readPendingLogin(secret, tok, binding, 1_000), p);
    assert.deepEqual(readPendingLogin(secret, signPendingLogin(secret, { ...p, remember: false }, binding), binding, 1_000), { ...p, remember: false });
  });

  it('expires after five minutes', () => {
    assert.equal(PENDING_LOGIN_TTL, 300);
    const tok = signPendingLogin(secret, p, binding);
    assert.notEqual(readPendingLogin(secret, tok, binding, p.expires - 1), null);
    assert.equal(readPendingLogin(secret, tok, binding, p.expires), null);
  });

  it('refuses another secret, another browser, and any edited field', () => {
    const tok = signPendingLogin(secret, p, binding);
    assert.equal(readPendingLogin(Buffer.alloc(32, 8), tok, binding, 1_000), null, 'other secret');
    assert.equal(readPendingLogin(secret, tok, 'another-browser', 1_000), null, 'other browser');
    const [, r, e, mac] = tok.split('.');
    assert.equal(readPendingLogin(secret, `43.${r}.${e}.${mac}`, binding, 1_000), null, 'other member');
    assert.equal(readPendingLogin(secret, `42.0.${e}.${mac}`, binding, 1_000), null, 'remember flag flipped');
    assert.equal(readPendingLogin(secret, `42.${r}.${Number(e) + 3600}.${mac}`, binding, 1_000), null, 'expiry pushed');
  });

  it('refuses malformed input', () => {
    for (const bad of [undefined, 42, '', 'a.b.c.d', '42.1.1300', `42.1.1300.${'x'.repeat(500)}`]) {
      assert.equal(readPendingLogin(secret, bad, binding, 1_000), null, String(bad));
    }
  });
});
