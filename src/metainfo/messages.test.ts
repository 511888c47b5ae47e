import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TORRENT_ERROR_CODES, isTorrentErrorCode } from './errors.js';
import { fillTemplate, formatTorrentError, torrentErrorMessages } from './messages.js';

function placeholders(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
}

test('both catalogues have exactly one template per error code', () => {
  for (const locale of ['en', 'fr'] as const) {
    assert.deepEqual(Object.keys(torrentErrorMessages[locale]).sort(), [...TORRENT_ERROR_CODES].sort(), locale);
  }
  assert.equal(new Set(TORRENT_ERROR_CODES).size, TORRENT_ERROR_CODES.length, 'no duplicate codes');
});

test('English and French templates use the same placeholders, and are not left untranslated', () => {
  for (const code of TORRENT_ERROR_CODES) {
    const en = torrentErrorMessages.en[code];
    const fr = torrentErrorMessages.fr[code];
    assert.ok(en.length > 10 && fr.length > 10, `${code}: non-empty templates`);
    assert.notEqual(en, fr, `${code}: French differs from English`);
    const enP = placeholders(en);
    const frP = placeholders(fr).filter((p) => p !== 'detail' || enP.includes('detail'));
    // not_bencoded: the French text shows the offset instead of the (English) decoder detail.
    if (code === 'not_bencoded') assert.deepEqual(frP, ['offset']);
    else assert.deepEqual(frP, enP, `${code}: same placeholders`);
  }
});

test('formatTorrentError fills placeholders and translates type names', () => {
  const err = { code: 'wrong_type' as const, params: { field: 'info.name', expected: 'string' } };
  assert.equal(formatTorrentError(err, 'en'), 'info.name must be a byte string');
  assert.equal(formatTorrentError(err, 'fr'), 'info.name doit être une chaîne d’octets');
  const dot = { code: 'path_component_dot' as const, params: { field: 'info.files[3].path[1]', component: '..' } };
  assert.equal(formatTorrentError(dot, 'en'), "info.files[3].path[1]: path component '..' is not allowed");
  assert.equal(formatTorrentError(dot, 'fr'), "info.files[3].path[1] : le composant de chemin '..' n’est pas autorisé");
});

test('fillTemplate leaves unknown placeholders and shows non-token values as they are', () => {
  assert.equal(fillTemplate('{a} {b} {expected}', { a: 1, expected: 'string!' }, 'en'), '1 {b} string!');
  assert.equal(fillTemplate('{field}', { field: 'integer' }, 'fr'), 'integer');
});

test('isTorrentErrorCode', () => {
  assert.equal(isTorrentErrorCode('path_component_dot'), true);
  assert.equal(isTorrentErrorCode('nope'), false);
});
