import { test } from 'node:test';
import assert from 'node:assert/strict';
import { route } from './http-tracker.js';

test('routes announce and scrape, with and without a passkey segment', () => {
  const pk = '0123456789abcdef0123456789abcdef';
  assert.deepEqual(route('/announce'), { action: 'announce', passkey: null });
  assert.deepEqual(route('/scrape'), { action: 'scrape', passkey: null });
  assert.deepEqual(route(`/${pk}/announce`), { action: 'announce', passkey: pk });
  assert.deepEqual(route(`/${pk}/scrape`), { action: 'scrape', passkey: pk });
  // a malformed passkey is still a passkey (the client is told it is unknown, not 404)
  assert.deepEqual(route('/not-a-passkey/announce'), { action: 'announce', passkey: 'not-a-passkey' });
  for (const p of ['/', '', '//announce', '/a/b/announce', `/${pk}/announce/`, `/${pk}`, '/announcex', 'announce', '/x/scrapes']) {
    assert.equal(route(p), null, p);
  }
});
