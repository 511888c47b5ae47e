import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emailError, newPasswordErrors, normaliseEmail, safeNext, usernameError } from './shared.js';

describe('accounts form rules', () => {
  it('safeNext keeps same-site paths only', () => {
    for (const ok of ['/', '/account', '/browse?q=a&page=2', '/t/12#files']) assert.equal(safeNext(ok), ok, ok);
    for (const bad of [undefined, '', 'account', '//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/a\nb', '/a\\b', `/${'x'.repeat(2000)}`]) {
      assert.equal(safeNext(bad), null, String(bad));
    }
  });

  it('usernames: 3 to 32 of [A-Za-z0-9_.-]', () => {
    for (const ok of ['abc', 'A.b-c_9', 'x'.repeat(32)]) assert.equal(usernameError(ok), undefined, ok);
    assert.equal(usernameError(''), 'common.form.required');
    for (const bad of ['ab', 'x'.repeat(33), 'with space', 'accentué', 'a@b', '<script>']) assert.equal(usernameError(bad), 'accounts.username.invalid', bad);
  });

  it('emails: a plausible address, compared in lower case', () => {
    assert.equal(emailError('someone@example.test'), undefined);
    assert.equal(emailError(''), 'common.form.required');
    for (const bad of ['no-at.example', 'a@b', 'a b@example.test', 'a@exa mple.test', `${'a'.repeat(250)}@example.test`]) assert.equal(emailError(bad), 'accounts.email.invalid', bad);
    assert.equal(normaliseEmail('  Some.One@Example.TEST '), 'some.one@example.test');
  });

  it('new passwords follow passwordProblem and must be confirmed', () => {
    assert.deepEqual(newPasswordErrors('', '', 'bob'), { password: 'common.form.required' });
    assert.deepEqual(newPasswordErrors('short', 'short', 'bob'), { password: 'accounts.password.too_short' });
    assert.deepEqual(newPasswordErrors('BobTheBuilder', 'BobTheBuilder', 'bobthebuilder'), { password: 'accounts.password.same_as_username' });
    assert.deepEqual(newPasswordErrors('long enough pw', 'long enough pX', 'bob'), { password_confirm: 'accounts.password.mismatch' });
    assert.deepEqual(newPasswordErrors('long enough pw', 'long enough pw', 'bob'), {});
  });
});
