/**
 * What the moderation services share: who acts (a staff member, named in the audit log), the
 * part of the Site they need, text limits and normalisation, and the after-commit push of a
 * torrent's new state to the tracker.
 *
 * The services do not check permissions: every route asks the policy first (requirePermission).
 */
import type { User } from '../../db/schema.js';
import type { Site } from '../site.js';

/** The member acting (a staff member, or the uploader for a resubmission). */
export type Actor = Pick<User, 'id' | 'username'>;

/** What the moderation services use of the Site (tests build it from a database and a fake tracker). */
export type ModerationSite = Pick<Site, 'db' | 'tracker' | 'log' | 'now'>;

/** Longest reason (deletion, rejection, edit request): it travels in tracker answers. */
export const REASON_MAX = 200;
/** Longest report reason, resolution or note. */
export const TEXT_MAX = 2000;

/** One line of text as stored: control characters removed, whitespace collapsed, trimmed. */
export function oneLine(s: unknown): string {
  if (typeof s !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Several lines of text as stored: CRLF to LF, other control characters removed, trimmed. */
export function multiLine(s: unknown): string {
  if (typeof s !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  return s.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, ' ').trim();
}

export type TextProblem = 'required' | 'too_long';

/** Checks a required text against its limit. */
export function checkText(s: string, max: number): TextProblem | null {
  if (s === '') return 'required';
  if (s.length > max) return 'too_long';
  return null;
}

/** Tells the tracker a torrent changed (after the commit); a failure is logged, the periodic refresh catches up. */
export async function pushTorrent(site: ModerationSite, torrentId: number): Promise<void> {
  try {
    await site.tracker.torrentChanged(torrentId);
  } catch (err) {
    site.log.error({ err, torrentId }, 'telling the tracker about a moderated torrent failed');
  }
}
