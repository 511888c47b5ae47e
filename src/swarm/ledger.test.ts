import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unpackBaselines, unpackEntries, type LedgerEntry } from '../shared/ledger-batch.js';
import { KeyedRows, SHRINK_AFTER } from './keyed-rows.js';
import { Ledger } from './ledger.js';

const peer = (n: number) => Buffer.from(`-TR3000-${String(n).padStart(12, '0')}`);

test('merges credits per (member, torrent): sums, first and last seen, first completion', () => {
  const l = new Ledger('n');
  l.credit(1, 7, 100, 10, 200, 5, 30, 0, false, 1000);
  l.credit(1, 7, 1, 2, 3, 4, 5, 6, true, 1010);
  l.credit(1, 7, 0, 0, 0, 0, 0, 0, true, 1020);
  l.credit(2, 7, 9, 9, 9, 9, 0, 9, false, 1005);
  l.credit(1, 8, 0, 0, 0, 0, 0, 0, false, 990);
  assert.equal(l.depth(), 3);
  const b = l.take()!;
  assert.ok(b !== null, 'a batch');
  const byKey = new Map(unpackEntries(b).map((e) => [`${e.userId}:${e.torrentId}`, e]));
  assert.deepEqual(byKey.get('1:7'), {
    userId: 1,
    torrentId: 7,
    uploaded: 203,
    downloaded: 9,
    rawUploaded: 101,
    rawDownloaded: 12,
    seedTime: 35,
    leechTime: 6,
    announces: 3,
    completions: 2,
    completedAt: 1010,
    firstSeenAt: 1000,
    lastSeenAt: 1020,
  } satisfies LedgerEntry);
  assert.equal(byKey.get('2:7')?.leechTime, 9);
  assert.equal(byKey.get('1:8')?.completedAt, null);
  assert.equal(b.hour, Math.floor(1020 / 3600), 'the hour of the latest announce');
});

test('keeps the last baseline of each peer, removal included', () => {
  const l = new Ledger('n');
  l.baseline(1, 7, peer(1), 10, 20, false, 100);
  l.baseline(1, 7, peer(1), 30, 40, false, 110);
  l.baseline(1, 7, peer(2), 5, 5, false, 100);
  l.baseline(1, 7, peer(2), 6, 6, true, 120);
  l.baseline(2, 7, peer(1), 1, 1, false, 100); // another member, same peer id: another peer
  const got = unpackBaselines(l.take()!).sort((a, b) => a.userId - b.userId || a.peerId.localeCompare(b.peerId));
  assert.deepEqual(got, [
    { userId: 1, torrentId: 7, peerId: peer(1).toString('hex'), uploaded: 30, downloaded: 40, updatedAt: 110, removed: false },
    { userId: 1, torrentId: 7, peerId: peer(2).toString('hex'), uploaded: 6, downloaded: 6, updatedAt: 120, removed: true },
    { userId: 2, torrentId: 7, peerId: peer(1).toString('hex'), uploaded: 1, downloaded: 1, updatedAt: 100, removed: false },
  ]);
});

test('a failed batch is offered again as is, before newer traffic, which waits for the next batch', () => {
  const l = new Ledger('n');
  assert.equal(l.take(), null, 'nothing recorded, nothing to write');
  l.credit(1, 7, 5, 0, 5, 0, 0, 0, false, 100);
  l.baseline(1, 7, peer(1), 5, 0, false, 100);
  const first = l.take()!;
  assert.equal(l.take(), first, 'the batch in flight is offered until done or failed');
  l.credit(1, 7, 7, 0, 7, 0, 0, 0, false, 200);
  l.failed(first);
  const retry = l.take()!;
  assert.equal(retry, first, 'the very same batch');
  assert.equal(retry.id, first.id);
  assert.equal(unpackEntries(retry)[0]!.uploaded, 5, 'newer traffic is not merged into the retried batch');
  assert.equal(l.depth(), 2, 'the retried entry and the newer one');
  l.done(retry);
  const second = l.take()!;
  assert.notEqual(second.id, first.id);
  assert.deepEqual(unpackEntries(second).map((e) => e.uploaded), [7]);
  assert.equal(second.baselineCount, 0);
  l.done(second);
  assert.equal(l.take(), null);
  assert.equal(l.depth(), 0);
});

test('done() with another batch than the pending one changes nothing', () => {
  const l = new Ledger('n');
  l.credit(1, 1, 1, 1, 1, 1, 0, 0, false, 1);
  const a = l.take()!;
  l.done({ ...a });
  assert.equal(l.take(), a, 'still pending');
});

test('batch ids are unique per ledger and carry the node id', () => {
  const l = new Ledger({ nodeId: 'node7' });
  const ids = new Set<string>();
  for (let i = 0; i < 50; i++) {
    l.credit(1, 1, 1, 0, 1, 0, 0, 0, false, i);
    const b = l.take()!;
    assert.match(b.id, /^node7-/);
    ids.add(b.id);
    l.done(b);
  }
  assert.equal(ids.size, 50);
});

test('batches live on SharedArrayBuffers (posted to the writer thread without a copy)', () => {
  const l = new Ledger('n');
  l.credit(1, 1, 1, 0, 1, 0, 0, 0, false, 1);
  l.baseline(1, 1, peer(1), 1, 0, false, 1);
  const b = l.take()!;
  for (const a of [b.entryIds, b.entryValues, b.baselineIds, b.baselinePeerIds, b.baselineValues, b.baselineRemoved]) {
    assert.ok(a.buffer instanceof SharedArrayBuffer, 'shared buffer');
  }
});

test('grows past its initial size and gives back every row exactly (against a reference map)', () => {
  const l = new Ledger({ nodeId: 'n', initialRows: 16 });
  const ref = new Map<string, number>();
  const refBase = new Map<string, number>();
  let x = 12345;
  const rnd = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  for (let round = 0; round < 3; round++) {
    ref.clear();
    refBase.clear();
    const n = round === 1 ? 20 : 5000; // a small round in between: the tables shrink, then grow again
    for (let i = 0; i < n; i++) {
      const u = 1 + rnd(300);
      const t = 1 + rnd(40);
      const up = rnd(1000);
      l.credit(u, t, up, 0, up, 0, 0, 0, false, 1000 + i);
      ref.set(`${u}:${t}`, (ref.get(`${u}:${t}`) ?? 0) + up);
      const p = rnd(3);
      l.baseline(u, t, peer(p), i, 0, false, 1000 + i);
      refBase.set(`${u}:${t}:${peer(p).toString('hex')}`, i);
    }
    const b = l.take()!;
    const got = new Map(unpackEntries(b).map((e) => [`${e.userId}:${e.torrentId}`, e.uploaded]));
    assert.deepEqual(got, ref);
    const gotBase = new Map(unpackBaselines(b).map((e) => [`${e.userId}:${e.torrentId}:${e.peerId}`, e.uploaded]));
    assert.deepEqual(gotBase, refBase);
    l.done(b);
  }
});

test('two sets of tables, recycled: records during a write go to the other set; memory stays flat', () => {
  const l = new Ledger({ nodeId: 'n', initialRows: 64 });
  for (let i = 0; i < 50; i++) l.credit(1, i, 1, 0, 1, 0, 0, 0, false, 1);
  const a = l.take()!;
  for (let i = 0; i < 30; i++) l.credit(2, i, 2, 0, 2, 0, 0, 0, false, 2);
  assert.equal(a.entryCount, 50, 'the pending batch does not see newer records');
  assert.ok(unpackEntries(a).every((e) => e.userId === 1), 'only the first set');
  l.failed(a);
  assert.equal(l.take(), a);
  assert.equal(l.depth(), 80);
  l.done(a);
  const bytes = l.bytes();
  for (let round = 0; round < 20; round++) {
    const b = l.take()!;
    assert.ok(unpackEntries(b).every((e) => e.uploaded === (round === 0 ? 2 : 3)), `round ${round}: its own records only`);
    for (let i = 0; i < 40; i++) l.credit(3, i, 3, 0, 3, 0, 0, 0, false, 3);
    l.done(b);
  }
  assert.equal(l.bytes(), bytes, 'no table allocated after the first two');
  assert.ok(a.entryIds.buffer instanceof SharedArrayBuffer, 'views of shared tables');
});

test('refuses a peer id that is not 20 bytes', () => {
  const l = new Ledger('n');
  assert.throws(() => l.baseline(1, 1, new Uint8Array(19), 0, 0, false, 1), /20 bytes/);
  assert.equal(l.take(), null, 'nothing was recorded');
});

test('KeyedRows: find, insert, clear and shrink; peer ids compared byte by byte', () => {
  const t = new KeyedRows(2, true, 16);
  assert.equal(t.find(1, 2, peer(1)), -1);
  const r = t.insert(1, 2, peer(1));
  assert.equal(t.isNew, true);
  assert.equal(t.insert(1, 2, peer(1)), r);
  assert.equal(t.isNew, false);
  assert.equal(t.find(1, 2, peer(2)), -1, 'another peer id');
  assert.equal(t.find(2, 1, peer(1)), -1, 'member and torrent are not interchangeable');
  const sub = Buffer.concat([Buffer.from('xx'), peer(1)]).subarray(2);
  assert.equal(t.find(1, 2, sub), r, 'a peer id at an offset in a larger buffer');
  for (let i = 0; i < 10_000; i++) t.vals[2 * t.insert(i, i + 1, peer(i))] = i;
  for (let i = 0; i < 10_000; i += 997) assert.equal(t.vals[2 * t.find(i, i + 1, peer(i))], i);
  const big = t.bytes();
  t.clear();
  assert.equal(t.count, 0);
  assert.equal(t.find(1, 2, peer(1)), -1, 'cleared');
  for (let i = 1; i < SHRINK_AFTER; i++) t.clear(); // small fills, but not yet enough of them
  assert.equal(t.bytes(), big, 'kept through a few small fills');
  t.insert(1, 1, peer(1));
  t.clear(); // a fill that needed little, the SHRINK_AFTER-th in a row: shrink
  assert.ok(t.bytes() < big / 4, `shrunk (${t.bytes()} < ${big / 4})`);
  const r2 = t.insert(1, 2, peer(1));
  t.vals[2 * r2] = 5;
  t.flags[r2] = 1;
  t.clear(); // small: the arrays are kept and reset
  const r3 = t.insert(3, 4, peer(3));
  assert.equal(t.vals[2 * r3], 0, 'a reused row starts at zero');
  assert.equal(t.flags[r3], 0);
});
