/**
 * What a member's profile shows, and to whom: the privacy rules (T411's low / normal / strong),
 * the traffic of the last 24 hours and of each of the last days (from user_traffic_hour, written
 * by the tracker's ledger flushes), and the torrents the member is seeding or leeching now.
 *
 * "Now" is an approximation from user_torrent, which the ledger keeps per member and torrent (not
 * per peer): a torrent counts when the member's last announce on it is within the tracker's peer
 * timeout, and as seeding when the member has completed it at some time (completed_at set) or has
 * only ever seeded it (seed time credited, no leech time: an uploader seeding from the start). A
 * member who completed a torrent, deleted the data and downloads it again shows as seeding; one
 * who stopped cleanly stays listed until the timeout passes.
 */
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database, User, UserPrivacy } from '../../db/schema.js';
import { isStaff, torrentListQuery, type TorrentListRow } from '../torrents/read.js';

export interface ProfileAccess {
  /** The viewer is the member or staff: everything, anonymous and pending uploads included. */
  full: boolean;
  /** Title, uploaded, downloaded, ratio, last 24 hours, the traffic chart. */
  stats: boolean;
  /** Torrents being seeded and leeched now. */
  activity: boolean;
  /** Uploads (public ones; anonymous and pending ones only with `full`). */
  uploads: boolean;
}

/**
 * What `viewer` may see of `member`'s profile. Username, class and join date are always shown to
 * members. low: everything; normal: everything but what the member is seeding and leeching;
 * strong: nothing more. The member themself and the staff see everything.
 */
export function profileAccess(member: { id: number; privacy: UserPrivacy }, viewer: Pick<User, 'id' | 'role'>): ProfileAccess {
  if (viewer.id === member.id || isStaff(viewer)) return { full: true, stats: true, activity: true, uploads: true };
  switch (member.privacy) {
    case 'low':
      return { full: false, stats: true, activity: true, uploads: true };
    case 'normal':
      return { full: false, stats: true, activity: false, uploads: true };
    case 'strong':
      return { full: false, stats: false, activity: false, uploads: false };
  }
}

export interface TrafficTotals {
  uploaded: number;
  downloaded: number;
}

/** The hour number of an epoch second (user_traffic_hour.hour). */
export function hourOf(epochSeconds: number): number {
  return Math.floor(epochSeconds / 3600);
}

/** Credited traffic of the last 24 hours: the current hour and the 23 before it. */
export async function trafficLast24Hours(db: Kysely<Database>, userId: number, now: number): Promise<TrafficTotals> {
  const r = await db
    .selectFrom('user_traffic_hour')
    .select((eb) => [eb.fn.sum<number | string | null>('uploaded').as('up'), eb.fn.sum<number | string | null>('downloaded').as('down')])
    .where('user_id', '=', userId)
    .where('hour', '>', hourOf(now) - 24)
    .where('hour', '<=', hourOf(now))
    .executeTakeFirst();
  return { uploaded: Number(r?.up ?? 0), downloaded: Number(r?.down ?? 0) };
}

export interface DayTraffic extends TrafficTotals {
  /** Days since the epoch (UTC). */
  day: number;
}

/**
 * Credited traffic per UTC day for the last `days` days, oldest first, today (up to the current
 * hour) last, zeros included.
 */
export async function dailyTraffic(db: Kysely<Database>, userId: number, now: number, days = 30): Promise<DayTraffic[]> {
  const today = Math.floor(now / 86400);
  const first = today - days + 1;
  const rows = await db
    .selectFrom('user_traffic_hour')
    .select(['hour', 'uploaded', 'downloaded'])
    .where('user_id', '=', userId)
    .where('hour', '>=', first * 24)
    .where('hour', '<=', hourOf(now))
    .execute();
  const out: DayTraffic[] = [];
  for (let d = first; d <= today; d++) out.push({ day: d, uploaded: 0, downloaded: 0 });
  for (const r of rows) {
    const slot = out[Math.floor(Number(r.hour) / 24) - first];
    if (!slot) continue;
    slot.uploaded += Number(r.uploaded);
    slot.downloaded += Number(r.downloaded);
  }
  return out;
}

export interface ActivityRow extends TorrentListRow {
  /** The member's credited traffic on this torrent. */
  member_uploaded: number;
  member_downloaded: number;
  last_seen_at: number;
}

export interface CurrentActivity {
  seeding: ActivityRow[];
  leeching: ActivityRow[];
}

/**
 * The torrents the member announced within `peerTimeout` seconds (see the module comment for the
 * approximation), most recent first, at most `limit` of each. Deleted torrents are left out, and
 * pending ones unless `includePending`.
 */
/**
 * Seeding: the member completed the torrent at some time, or has only ever seeded it (seed time
 * credited and no leech time: an uploader, or a member who arrived with the complete data).
 */
const isSeeding = (eb: ExpressionBuilder<Database & { user_torrent: Database['user_torrent'] }, 'user_torrent'>) =>
  eb.or([eb('user_torrent.completed_at', 'is not', null), eb.and([eb('user_torrent.seed_time', '>', 0), eb('user_torrent.leech_time', '=', 0)])]);

export async function currentActivity(
  db: Kysely<Database>,
  userId: number,
  o: { now: number; peerTimeout: number; includePending: boolean; limit: number },
): Promise<CurrentActivity> {
  const base = () => {
    let q = torrentListQuery(db)
      .innerJoin('user_torrent', 'user_torrent.torrent_id', 'torrent.id')
      .select(['user_torrent.uploaded as member_uploaded', 'user_torrent.downloaded as member_downloaded', 'user_torrent.last_seen_at as last_seen_at'])
      .where('user_torrent.user_id', '=', userId)
      .where('user_torrent.last_seen_at', '>=', o.now - o.peerTimeout);
    q = o.includePending ? q.where('torrent.status', 'in', ['active', 'pending']) : q.where('torrent.status', '=', 'active');
    return q;
  };
  const [seeding, leeching] = await Promise.all([
    base().where(isSeeding).orderBy('user_torrent.last_seen_at', 'desc').orderBy('torrent.id', 'desc').limit(o.limit).execute(),
    base().where((eb) => eb.not(isSeeding(eb))).orderBy('user_torrent.last_seen_at', 'desc').orderBy('torrent.id', 'desc').limit(o.limit).execute(),
  ]);
  return { seeding: seeding as ActivityRow[], leeching: leeching as ActivityRow[] };
}
