/**
 * Scheduled open windows for sign-ups ("Saturdays 18:00 to 20:00, Europe/Paris, at most 500
 * sign-ups"), and the wall-clock arithmetic they need in any IANA time zone.
 *
 * Everything goes through Intl (no time-zone database of our own): `zoneOffset` reads a zone's
 * offset at an instant from Intl.DateTimeFormat, and `zonedToEpoch` turns a local wall-clock time
 * into an instant, correct across daylight-saving changes: a local time that does not exist (the
 * spring-forward gap) is moved forward by the gap, and one that exists twice (the fall-back
 * overlap) is the earlier of the two instants.
 */

/** A weekly window: on `day` (0 Sunday … 6 Saturday, local to `zone`), from `start` to `end`. */
export interface OpenWindow {
  day: number;
  /** "HH:MM", 24-hour, local time. */
  start: string;
  /** "HH:MM"; at or before `start`, the window ends the next day. */
  end: string;
  /** IANA time zone, e.g. "Europe/Paris". */
  zone: string;
  /** Most sign-ups during one occurrence (0 = no limit). */
  cap: number;
}

/** One occurrence of a window, in epoch seconds. */
export interface WindowOccurrence {
  window: OpenWindow;
  start: number;
  end: number;
}

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function parseTime(s: string): { h: number; m: number } | null {
  const m = TIME_RE.exec(s);
  return m ? { h: Number(m[1]), m: Number(m[2]) } : null;
}

const zoneCache = new Map<string, boolean>();

/** Whether Intl knows this IANA zone name. */
export function isTimeZone(zone: string): boolean {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > 64) return false;
  let ok = zoneCache.get(zone);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      ok = true;
    } catch {
      ok = false;
    }
    zoneCache.set(zone, ok);
  }
  return ok;
}

/** Every zone the runtime knows, for pickers. */
export function timeZones(): string[] {
  const withSupported = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const list = withSupported.supportedValuesOf?.('timeZone') ?? [];
  return list.includes('UTC') ? list : ['UTC', ...list];
}

export function windowProblem(w: OpenWindow): 'day' | 'start' | 'end' | 'zone' | 'cap' | null {
  if (!Number.isInteger(w.day) || w.day < 0 || w.day > 6) return 'day';
  if (!parseTime(w.start)) return 'start';
  if (!parseTime(w.end)) return 'end';
  if (!isTimeZone(w.zone)) return 'zone';
  if (!Number.isInteger(w.cap) || w.cap < 0 || w.cap > 1_000_000) return 'cap';
  return null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

export interface LocalTime {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 Sunday … 6 Saturday. */
  weekday: number;
}

/** The wall-clock time in `zone` at an instant (epoch milliseconds). */
export function localTime(epochMs: number, zone: string): LocalTime {
  const p: Record<string, number> = {};
  for (const part of partsFormatter(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const year = p.year!;
  const month = p.month!;
  const day = p.day!;
  return { year, month, day, hour: p.hour! % 24, minute: p.minute!, second: p.second!, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
}

/** The zone's offset from UTC at an instant, in milliseconds (Paris in summer: +7 200 000). */
export function zoneOffset(epochMs: number, zone: string): number {
  const l = localTime(epochMs, zone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant (epoch milliseconds) of a local wall-clock time in `zone`. `month` is 1–12; days
 * and months out of range roll over as with Date.UTC. Gap: moved forward by the gap; overlap:
 * the earlier instant.
 */
export function zonedToEpoch(zone: string, year: number, month: number, day: number, hour: number, minute: number): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The offsets in force half a day either side cover any single transition around this time.
  const before = zoneOffset(wall - 12 * 3600_000, zone);
  const after = zoneOffset(wall + 12 * 3600_000, zone);
  const matches = (t: number) => t + zoneOffset(t, zone) === wall;
  const candidates = [wall - before, wall - after].filter(matches).sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // In the gap: the same distance past the transition as the wall time is past its start.
  return wall - before;
}

/** The occurrence of `w` on the local date (year, month, day), whatever its weekday. */
function occurrenceOn(w: OpenWindow, year: number, month: number, day: number): WindowOccurrence {
  const s = parseTime(w.start)!;
  const e = parseTime(w.end)!;
  const overnight = e.h * 60 + e.m <= s.h * 60 + s.m;
  const start = zonedToEpoch(w.zone, year, month, day, s.h, s.m);
  const end = zonedToEpoch(w.zone, year, month, day + (overnight ? 1 : 0), e.h, e.m);
  return { window: w, start: Math.floor(start / 1000), end: Math.floor(end / 1000) };
}

/** Occurrences of `w` whose local date is within `days` days of the local date at `now`. */
function occurrencesAround(w: OpenWindow, now: number, days: number): WindowOccurrence[] {
  const today = localTime(now * 1000, w.zone);
  const out: WindowOccurrence[] = [];
  for (let d = -days; d <= days; d++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + d));
    if (date.getUTCDay() !== w.day) continue;
    out.push(occurrenceOn(w, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()));
  }
  return out;
}

/** The window occurrence `now` (epoch seconds) falls in, the one ending last if several. */
export function currentWindow(windows: readonly OpenWindow[], now: number): WindowOccurrence | null {
  let best: WindowOccurrence | null = null;
  for (const w of windows) {
    if (windowProblem(w)) continue;
    for (const o of occurrencesAround(w, now, 8)) {
      if (o.start <= now && now < o.end && (!best || o.end > best.end)) best = o;
    }
  }
  return best;
}

/** The next occurrence starting after `now` (epoch seconds), or null when there are no windows. */
export function nextWindow(windows: readonly OpenWindow[], now: number): WindowOccurrence | null {
  let best: WindowOccurrence | null = null;
  for (const w of windows) {
    if (windowProblem(w)) continue;
    for (const o of occurrencesAround(w, now, 8)) {
      if (o.start > now && (!best || o.start < best.start)) best = o;
    }
  }
  return best;
}
