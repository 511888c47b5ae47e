import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translator, type RequestContext } from '../../context.js';
import { localLink, notificationKey, notificationText } from './notifications.js';

describe('notification texts', () => {
  const ctx = { t: translator('en'), locale: 'en' } as unknown as RequestContext;

  it("finds each feature's message, with or without the feature in the kind", () => {
    assert.equal(notificationKey('moderation_approved'), 'moderation.notify.moderation_approved');
    assert.equal(notificationKey('no_such_kind'), null);
    assert.equal(notificationKey('moderation.no_such_kind'), null);
    assert.equal(notificationText(ctx, 'moderation_rejected', { title: 'X', reason: 'Fake', torrentId: 3 }), 'Your torrent “X” was rejected by the staff: Fake');
    assert.equal(notificationText(ctx, 'mystery', {}), 'Notification (mystery)');
  });

  it('keeps links on this site only', () => {
    assert.equal(localLink('/t/3'), '/t/3');
    assert.equal(localLink('//evil.example/x'), null);
    assert.equal(localLink('/\\evil.example'), null);
    assert.equal(localLink('https://evil.example/'), null);
    assert.equal(localLink(3), null);
  });
});
