import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachDialect } from '../../db/test-databases.js';
import { createUser } from '../../db/user.repository.js';
import {
  base32Decode,
  base32Encode,
  groupSecret,
  hotp,
  matchTotp,
  newTotpSecret,
  otpauthUri,
  replayGuardFor,
  totp,
  totpAtStep,
  TotpReplayGuard,
  verifyTotpOnce,
  verifyTotpShared,
  claimTotpStep,
} from './totp.js';

describe('base32 (RFC 4648 section 10 vectors)', () => {
  const vectors: Array<[string, string]> = [
    ['', ''],
    ['f', 'MY======'],
    ['fo', 'MZXQ===='],
    ['foo', 'MZXW6==='],
    ['foob', 'MZXW6YQ='],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI======'],
  ];
  it('encodes', () => {
    for (const [plain, enc] of vectors) assert.equal(base32Encode(Buffer.from(plain)), enc, plain);
  });
  it('decodes, with or without padding, in any case, with spaces', () => {
    for (const [plain, enc] of vectors) {
      assert.equal(base32Decode(enc)?.toString(), plain, enc);
      assert.equal(base32Decode(enc.replace(/=+$/, '').toLowerCase())?.toString(), plain, enc);
    }
    assert.equal(base32Decode('mzxw 6ytb')?.toString(), 'fooba');
  });
  it('encodes without padding on request', () => {
    assert.equal(base32Encode(Buffer.from('foobar'), false), 'MZXW6YTBOI');
  });
  it('refuses characters outside the alphabet, impossible lengths and stray bits', () => {
    assert.equal(base32Decode('MZXW6YT1'), null, 'digit 1 is not base32');
    assert.equal(base32Decode('M'), null, 'one character cannot encode a byte');
    assert.equal(base32Decode('MZX'), null, 'three characters are not a quantum end');
    assert.equal(base32Decode('MZ'), null, 'non-zero trailing bits');
  });
  it('round-trips random bytes', () => {
    for (let n = 0; n < 40; n++) {
      const b = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n * 11) & 255));
      assert.deepEqual(base32Decode(base32Encode(b)), b);
    }
  });
});

describe('HOTP (RFC 4226 appendix D)', () => {
  it('gives the published codes for counters 0 to 9', () => {
    const key = Buffer.from('12345678901234567890');
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expected.forEach((code, counter) => assert.equal(hotp(key, counter), code, `counter ${counter}`));
  });
});

describe('TOTP (RFC 6238 appendix B)', () => {
  const sha1 = Buffer.from('12345678901234567890');
  const sha256 = Buffer.from('12345678901234567890123456789012');
  const sha512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');
  const table: Array<[number, string, string, string]> = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it('gives the published 8-digit codes for SHA-1, SHA-256 and SHA-512', () => {
    for (const [time, c1, c256, c512] of table) {
      assert.equal(totp(sha1, time, { digits: 8 }), c1, `sha1 at ${time}`);
      assert.equal(totp(sha256, time, { digits: 8, algorithm: 'sha256' }), c256, `sha256 at ${time}`);
      assert.equal(totp(sha512, time, { digits: 8, algorithm: 'sha512' }), c512, `sha512 at ${time}`);
    }
  });
  it('uses 6 digits and SHA-1 by default (the last 6 digits of the 8-digit codes)', () => {
    for (const [time, c1] of table) assert.equal(totp(sha1, time), c1.slice(2), `at ${time}`);
  });
});

describe('matchTotp', () => {
  const secret = base32Encode(Buffer.from('12345678901234567890'), false);
  const t = 1111111111;
  const step = Math.floor(t / 30);
  it('accepts the current code and those of the neighbouring steps, returning the step', () => {
    assert.equal(matchTotp(secret, totpAtStep(secret, step), t), step);
    assert.equal(matchTotp(secret, totpAtStep(secret, step - 1), t), step - 1);
    assert.equal(matchTotp(secret, totpAtStep(secret, step + 1), t), step + 1);
    assert.equal(matchTotp(secret, ` ${totpAtStep(secret, step).slice(0, 3)} ${totpAtStep(secret, step).slice(3)} `, t), step, 'spaces ignored');
  });
  it('refuses codes two steps away, malformed codes and bad secrets', () => {
    assert.equal(matchTotp(secret, totpAtStep(secret, step - 2), t), null);
    assert.equal(matchTotp(secret, totpAtStep(secret, step + 2), t), null);
    assert.equal(matchTotp(secret, '12345', t), null);
    assert.equal(matchTotp(secret, 'abcdef', t), null);
    assert.equal(matchTotp(secret, '1234567', t), null);
    assert.equal(matchTotp('not base32!', '123456', t), null);
    assert.equal(matchTotp('', '123456', t), null);
  });
});

describe('replay guard', () => {
  it('accepts a step once per member, and only newer steps afterwards', () => {
    const g = new TotpReplayGuard();
    assert.equal(g.accept(1, 100), true);
    assert.equal(g.accept(1, 100), false, 'same step refused');
    assert.equal(g.accept(1, 99), false, 'older step refused');
    assert.equal(g.accept(2, 100), true, 'another member is independent');
    assert.equal(g.accept(1, 101), true);
    assert.equal(g.lastStep(1), 101);
  });
  it('verifyTotpOnce refuses the same code twice', () => {
    const g = new TotpReplayGuard();
    const secret = newTotpSecret();
    const now = 1_700_000_000;
    const code = totp(base32Decode(secret)!, now);
    assert.notEqual(verifyTotpOnce(g, 7, secret, code, now), null, 'first use accepted');
    assert.equal(verifyTotpOnce(g, 7, secret, code, now), null, 'reuse refused');
    const wrong = code === '000000' ? '111111' : '000000';
    assert.equal(verifyTotpOnce(g, 8, secret, wrong, now) === null || matchTotp(secret, wrong, now) !== null, true, 'a wrong code is refused');
    const next = totp(base32Decode(secret)!, now + 30);
    assert.notEqual(verifyTotpOnce(g, 7, secret, next, now + 30), null, 'the next step is accepted');
  });
  it('keeps one guard per site object', () => {
    const a = {};
    const b = {};
    assert.equal(replayGuardFor(a), replayGuardFor(a));
    assert.notEqual(replayGuardFor(a), replayGuardFor(b));
  });
});

describe('secrets and URIs', () => {
  it('makes 160-bit base32 secrets', () => {
    const s = newTotpSecret();
    assert.match(s, /^[A-Z2-7]{32}$/);
    assert.equal(base32Decode(s)?.length, 20);
    assert.notEqual(newTotpSecret(), s);
  });
  it('builds an otpauth URI with issuer, account and parameters', () => {
    const u = new URL(otpauthUri('Essaim Test', 'alice', 'JBSWY3DPEHPK3PXP'));
    assert.equal(u.protocol, 'otpauth:');
    assert.equal(u.host, 'totp');
    assert.equal(decodeURIComponent(u.pathname), '/Essaim Test:alice');
    assert.equal(u.searchParams.get('secret'), 'JBSWY3DPEHPK3PXP');
    assert.equal(u.searchParams.get('issuer'), 'Essaim Test');
    assert.equal(u.searchParams.get('digits'), '6');
    assert.equal(u.searchParams.get('period'), '30');
  });
  it('groups a secret by four characters', () => {
    assert.equal(groupSecret('JBSWY3DPEHPK3PXP'), 'JBSW Y3DP EHPK 3PXP');
  });
});

forEachDialect((name, open) => {
  describe(`the shared TOTP replay guard (${name})`, () => {
    it('accepts a code once across nodes (two guards, one database)', async (t) => {
      const d = await open();
      t.after(() => d.close());
      const uid = (await createUser(d.db, { username: 'totp', now: 1 })).id;
      const secret = newTotpSecret();
      const now = 1_800_000_000;
      const code = totpAtStep(secret, Math.floor(now / 30));
      const nodeA = new TotpReplayGuard();
      const nodeB = new TotpReplayGuard();
      assert.notEqual(await verifyTotpShared(d.db, nodeA, uid, secret, code, now), null, 'first use');
      assert.equal(await verifyTotpShared(d.db, nodeB, uid, secret, code, now + 1), null, 'replayed on another node');
      const next = totpAtStep(secret, Math.floor(now / 30) + 1);
      assert.notEqual(await verifyTotpShared(d.db, nodeB, uid, secret, next, now + 30), null, 'the next step is fine');
      assert.equal(await claimTotpStep(d.db, uid, Math.floor(now / 30)), false, 'an older step is refused');
    });
  });
});
