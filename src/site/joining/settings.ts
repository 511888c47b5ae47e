/**
 * The joining settings administrators choose on /staff/joining: the registration mode, the weekly
 * open windows and the questions of the application form. Kept as one JSON value in site_setting
 * (key `joining`), shared by every web node; a value that does not parse reads as the defaults.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { getSetting, setSetting } from '../settings.js';
import { windowProblem, type OpenWindow } from './schedule.js';

/**
 * open: anyone may sign up; invite: an invitation is needed; application: visitors apply and
 * staff decide; closed: no new accounts. Open windows let anyone sign up during them, whatever
 * the mode.
 */
export const JOIN_MODES = ['open', 'invite', 'application', 'closed'] as const;
export type JoinMode = (typeof JOIN_MODES)[number];

export interface JoiningSettings {
  mode: JoinMode;
  windows: OpenWindow[];
  /** The application form's questions, in order. */
  questions: string[];
}

export const SETTING_KEY = 'joining';
export const MAX_WINDOWS = 20;
export const MAX_QUESTIONS = 20;
export const MAX_QUESTION_LENGTH = 500;

export function defaultJoiningSettings(): JoiningSettings {
  return { mode: 'open', windows: [], questions: [] };
}

export function isJoinMode(v: unknown): v is JoinMode {
  return typeof v === 'string' && (JOIN_MODES as readonly string[]).includes(v);
}

/** Settings from their stored JSON; anything malformed is dropped. */
export function parseJoiningSettings(raw: string | undefined): JoiningSettings {
  const s = defaultJoiningSettings();
  if (!raw) return s;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return s;
  }
  if (!v || typeof v !== 'object') return s;
  const o = v as Record<string, unknown>;
  if (isJoinMode(o.mode)) s.mode = o.mode;
  if (Array.isArray(o.windows)) {
    for (const w of o.windows.slice(0, MAX_WINDOWS)) {
      if (!w || typeof w !== 'object') continue;
      const x = w as Record<string, unknown>;
      const win: OpenWindow = { day: Number(x.day), start: String(x.start ?? ''), end: String(x.end ?? ''), zone: String(x.zone ?? ''), cap: Number(x.cap ?? 0) };
      if (!windowProblem(win)) s.windows.push(win);
    }
  }
  if (Array.isArray(o.questions)) {
    s.questions = o.questions.filter((q): q is string => typeof q === 'string' && q.trim() !== '').map((q) => q.slice(0, MAX_QUESTION_LENGTH)).slice(0, MAX_QUESTIONS);
  }
  return s;
}

export async function loadJoiningSettings(db: Kysely<Database>): Promise<JoiningSettings> {
  return parseJoiningSettings(await getSetting(db, SETTING_KEY));
}

export async function saveJoiningSettings(db: Kysely<Database>, s: JoiningSettings, now: number): Promise<void> {
  const clean = parseJoiningSettings(JSON.stringify(s));
  await setSetting(db, SETTING_KEY, JSON.stringify(clean), now);
}
