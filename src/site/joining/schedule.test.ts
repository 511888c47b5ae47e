import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentWindow, isTimeZone, localTime, nextWindow, windowProblem, zonedToEpoch, zoneOffset, type OpenWindow } from './schedule.js';

const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s) / 1000;

describe('joining schedule: wall-clock times through Intl', () => {
  it('reads offsets and local times in a zone, summer and winter', () => {
    assert.equal(zoneOffset(Date.parse('2025-07-05T12:00:00Z'), 'Europe/Paris'), 2 * 3600_000);
    assert.equal(zoneOffset(Date.parse('2025-12-06T12:00:00Z'), 'Europe/Paris'), 3600_000);
    assert.equal(zoneOffset(Date.parse('2025-12-06T12:00:00Z'), 'UTC'), 0);
    const l = localTime(Date.parse('2025-12-06T23:30:00Z'), 'Europe/Paris');
    assert.deepEqual([l.year, l.month, l.day, l.hour, l.minute, l.weekday], [2025, 12, 7, 0, 30, 0], 'already Sunday in Paris');
  });

  it('turns local times into instants, across daylight saving', () => {
    assert.equal(iso(zonedToEpoch('Europe/Paris', 2025, 7, 5, 18, 0)), '2025-07-05T16:00:00.000Z');
    assert.equal(iso(zonedToEpoch('Europe/Paris', 2025, 12, 6, 18, 0)), '2025-12-06T17:00:00.000Z');
    assert.equal(iso(zonedToEpoch('America/New_York', 2025, 1, 15, 9, 30)), '2025-01-15T14:30:00.000Z');
    // 02:30 does not exist in Paris on 30 March 2025 (02:00 -> 03:00): moved forward to 03:30 CEST.
    assert.equal(iso(zonedToEpoch('Europe/Paris', 2025, 3, 30, 2, 30)), '2025-03-30T01:30:00.000Z');
    // 02:30 happens twice on 26 October 2025: the earlier one (CEST).
    assert.equal(iso(zonedToEpoch('Europe/Paris', 2025, 10, 26, 2, 30)), '2025-10-26T00:30:00.000Z');
    // A half-hour daylight-saving shift.
    assert.equal(iso(zonedToEpoch('Australia/Lord_Howe', 2025, 1, 10, 12, 0)), '2025-01-10T01:00:00.000Z');
    assert.equal(iso(zonedToEpoch('Australia/Lord_Howe', 2025, 7, 10, 12, 0)), '2025-07-10T01:30:00.000Z');
  });

  it('validates windows', () => {
    const ok: OpenWindow = { day: 6, start: '18:00', end: '20:00', zone: 'Europe/Paris', cap: 500 };
    assert.equal(windowProblem(ok), null);
    assert.equal(windowProblem({ ...ok, day: 7 }), 'day');
    assert.equal(windowProblem({ ...ok, start: '24:00' }), 'start');
    assert.equal(windowProblem({ ...ok, end: '8:00' }), 'end');
    assert.equal(windowProblem({ ...ok, zone: 'Mars/Olympus' }), 'zone');
    assert.equal(windowProblem({ ...ok, cap: -1 }), 'cap');
    assert.equal(isTimeZone('Europe/Paris'), true);
    assert.equal(isTimeZone(''), false);
  });
});

describe('joining schedule: weekly windows', () => {
  const saturday: OpenWindow = { day: 6, start: '18:00', end: '20:00', zone: 'Europe/Paris', cap: 500 };

  it('knows when a window is open and when the next one starts', () => {
    // Saturday 29 March 2025, 19:00 in Paris (CET): open until 20:00.
    const now = at('2025-03-29T18:00:00Z');
    const cur = currentWindow([saturday], now);
    assert.ok(cur, 'open');
    assert.equal(iso(cur.start * 1000), '2025-03-29T17:00:00.000Z');
    assert.equal(iso(cur.end * 1000), '2025-03-29T19:00:00.000Z');
    // The next one is after the change to summer time: 18:00 CEST is 16:00 UTC.
    const next = nextWindow([saturday], now);
    assert.ok(next, 'a next window');
    assert.equal(iso(next.start * 1000), '2025-04-05T16:00:00.000Z');
    assert.equal(next.start - cur.start, 7 * 86400 - 3600, 'a week minus the hour lost');
    // Closed a minute before and at the end.
    assert.equal(currentWindow([saturday], at('2025-03-29T16:59:00Z')), null);
    assert.equal(currentWindow([saturday], at('2025-03-29T19:00:00Z')), null);
    assert.equal(nextWindow([saturday], at('2025-03-29T16:59:00Z'))!.start, at('2025-03-29T17:00:00Z'));
    // No windows: none.
    assert.equal(nextWindow([], now), null);
    assert.equal(currentWindow([], now), null);
  });

  it('handles windows past midnight and picks the earliest next one among several', () => {
    const friday: OpenWindow = { day: 5, start: '23:00', end: '01:00', zone: 'UTC', cap: 0 };
    // Saturday 00:30 UTC is inside Friday's window.
    const cur = currentWindow([friday, saturday], at('2025-07-05T00:30:00Z'));
    assert.ok(cur, 'open past midnight');
    assert.equal(cur.window, friday);
    assert.equal(iso(cur.end * 1000), '2025-07-05T01:00:00.000Z');
    const next = nextWindow([friday, saturday], at('2025-07-05T00:30:00Z'));
    assert.equal(next?.window, saturday, 'Saturday evening comes before next Friday');
    assert.equal(iso(next.start * 1000), '2025-07-05T16:00:00.000Z');
    // An invalid window is ignored.
    assert.equal(nextWindow([{ ...saturday, zone: 'Nowhere/Here' }], at('2025-07-05T00:30:00Z')), null);
  });
});
