/**
 * The sharing rules the tracker enforces (see docs/tracker.md, "Sharing rules"), evaluated by a
 * periodic job (`runRules`, every `rules.interval`):
 *
 * - Ratio: a member whose credited download reached `rules.ratio_grace` and whose ratio
 *   (uploaded / downloaded) is below `rules.min_ratio` enters a ratio watch
 *   (`user.ratio_watch_since`, notified with the deadline). If still below when the watch
 *   (`rules.ratio_watch`) ends, their downloads are refused; going back above the minimum ends the
 *   watch and lifts the refusal at the next run.
 * - Hit-and-run: each completion (user_torrent.completed_at) is watched (table hnr) until the
 *   member has seeded it `rules.hnr_seed_time` or reached `rules.hnr_ratio` on it (raw upload /
 *   raw download on that torrent) → satisfied; `rules.hnr_prewarn` before the deadline
 *   (completion + `rules.hnr_window`) the member is reminded (prewarned); at the deadline a
 *   warning (user_warning kind 'hnr', expiring after `rules.hnr_warning_ttl`) is given (warned).
 *   With `rules.hnr_max_warnings` active hnr warnings, downloads are refused until one expires.
 * - Immunity: members whose class has `hnr_immune` and staff (moderator and above) are exempt
 *   from both rules; their watched completions become 'exempt'.
 *
 * The refusal is stored on the member (download_refused, download_refused_reason: the tracker's
 * `failure reason`), and the tracker is told at once (TrackerLink.userChanged). Seeding is always
 * allowed. Every change is notified (kinds `members.<kind>`: rendered from members.notify.<kind>).
 */
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { notify } from '../notifications.js';
import type { Site } from '../site.js';

export type RulesConfig = Config['rules'];

const STAFF_ROLES = ['moderator', 'supermod', 'admin'] as const;

/** The members exempt from the rules: ids of staff and of members of an hnr_immune class. */
async function immuneIds(db: Kysely<Database>, ids: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  if (ids.length === 0) return out;
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db
      .selectFrom('user')
      .leftJoin('member_class', 'member_class.id', 'user.class')
      .select('user.id')
      .where('user.id', 'in', ids.slice(i, i + 1000))
      .where((eb) => eb.or([eb('user.role', 'in', STAFF_ROLES), eb('member_class.hnr_immune', '=', 1)]))
      .execute();
    for (const r of rows) out.add(r.id);
  }
  return out;
}

/** A date for notification texts (stored as data, shown in any language): "2026-05-01 14:00 UTC". */
export function utcDate(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

export function formatRatio(uploaded: number, downloaded: number): string {
  return downloaded > 0 ? (uploaded / downloaded).toFixed(2) : '∞';
}

/** The tracker's failure reason for a member kept below the minimum ratio. */
export function ratioRefusal(uploaded: number, downloaded: number, minRatio: number): string {
  return `Your ratio ${formatRatio(uploaded, downloaded)} is below ${minRatio.toFixed(2)}: downloading is suspended until it recovers; seeding is allowed`;
}

/** The tracker's failure reason for a member with too many hit-and-run warnings. */
export function hnrRefusal(active: number, max: number): string {
  return `${active} active hit-and-run warnings (limit ${max}): downloading is suspended until one expires; seeding is allowed`;
}

export interface RatioWatchResult {
  entered: number[];
  left: number[];
}

/** Starts and ends ratio watches. */
export async function updateRatioWatch(db: Kysely<Database>, cfg: RulesConfig, now: number): Promise<RatioWatchResult> {
  const min = cfg.min_ratio;
  const rows = await db
    .selectFrom('user')
    .select(['id', 'uploaded', 'downloaded', 'ratio_watch_since'])
    .where('enabled', '=', 1)
    .where('deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('ratio_watch_since', 'is not', null),
        ...(min > 0
          ? [eb.and([eb('downloaded', '>=', Math.max(1, cfg.ratio_grace)), eb('uploaded', '<', sql<number>`downloaded * cast(${min} as double precision)`)])]
          : []),
      ]),
    )
    .orderBy('id')
    .execute();
  const immune = await immuneIds(
    db,
    rows.map((r) => r.id),
  );
  const out: RatioWatchResult = { entered: [], left: [] };
  for (const r of rows) {
    const below = min > 0 && r.downloaded >= Math.max(1, cfg.ratio_grace) && r.uploaded < r.downloaded * min && !immune.has(r.id);
    if (below && r.ratio_watch_since === null) {
      await inTransaction(db, async (trx) => {
        await trx.updateTable('user').set({ ratio_watch_since: now }).where('id', '=', r.id).execute();
        await notify(
          trx,
          r.id,
          'members.ratio_watch',
          { ratio: formatRatio(r.uploaded, r.downloaded), min: min.toFixed(2), deadline: utcDate(now + cfg.ratio_watch), link: `/u/${r.id}` },
          now,
        );
      });
      out.entered.push(r.id);
    } else if (!below && r.ratio_watch_since !== null) {
      await inTransaction(db, async (trx) => {
        await trx.updateTable('user').set({ ratio_watch_since: null }).where('id', '=', r.id).execute();
        await notify(trx, r.id, 'members.ratio_recovered', { ratio: formatRatio(r.uploaded, r.downloaded), min: min.toFixed(2) }, now);
      });
      out.left.push(r.id);
    }
  }
  return out;
}

export interface HnrResult {
  tracked: number;
  satisfied: number;
  exempted: number;
  prewarned: number;
  warned: number;
}

/** One pass of the hit-and-run watch. */
export async function updateHnr(db: Kysely<Database>, cfg: RulesConfig, now: number): Promise<HnrResult> {
  const res: HnrResult = { tracked: 0, satisfied: 0, exempted: 0, prewarned: 0, warned: 0 };
  if (!cfg.hnr_enabled) return res;
  // 1. Completions within the window not watched yet (the uploader's own torrent is not watched).
  const fresh = await db
    .selectFrom('user_torrent')
    .innerJoin('torrent', 'torrent.id', 'user_torrent.torrent_id')
    .leftJoin('hnr', (j) => j.onRef('hnr.user_id', '=', 'user_torrent.user_id').onRef('hnr.torrent_id', '=', 'user_torrent.torrent_id'))
    .select(['user_torrent.user_id', 'user_torrent.torrent_id', 'user_torrent.completed_at'])
    .where('user_torrent.completed_at', 'is not', null)
    .where('user_torrent.completed_at', '>', now - cfg.hnr_window)
    .where('hnr.user_id', 'is', null)
    .where((eb) => eb.or([eb('torrent.uploader_id', 'is', null), eb('torrent.uploader_id', '!=', eb.ref('user_torrent.user_id'))]))
    .execute();
  const freshImmune = await immuneIds(db, [...new Set(fresh.map((r) => r.user_id))]);
  for (const r of fresh) {
    const completedAt = r.completed_at!;
    await db
      .insertInto('hnr')
      .values({
        user_id: r.user_id,
        torrent_id: r.torrent_id,
        completed_at: completedAt,
        deadline: completedAt + cfg.hnr_window,
        status: freshImmune.has(r.user_id) ? 'exempt' : 'watching',
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(['user_id', 'torrent_id']).doNothing())
      .execute();
    res.tracked++;
  }

  // 2. Open rows: satisfied, exempt, prewarned or warned.
  const open = await db
    .selectFrom('hnr')
    .innerJoin('torrent', 'torrent.id', 'hnr.torrent_id')
    .leftJoin('user_torrent', (j) => j.onRef('user_torrent.user_id', '=', 'hnr.user_id').onRef('user_torrent.torrent_id', '=', 'hnr.torrent_id'))
    .select([
      'hnr.user_id',
      'hnr.torrent_id',
      'hnr.deadline',
      'hnr.status',
      'torrent.name',
      'user_torrent.seed_time',
      'user_torrent.raw_uploaded',
      'user_torrent.raw_downloaded',
    ])
    .where('hnr.status', 'in', ['watching', 'prewarned'])
    .orderBy('hnr.deadline')
    .execute();
  const immune = await immuneIds(db, [...new Set(open.map((r) => r.user_id))]);
  const setStatus = (trx: Kysely<Database>, r: { user_id: number; torrent_id: number }, status: 'satisfied' | 'exempt' | 'prewarned' | 'warned') =>
    trx.updateTable('hnr').set({ status, updated_at: now }).where('user_id', '=', r.user_id).where('torrent_id', '=', r.torrent_id).execute();
  for (const r of open) {
    const seeded = (r.seed_time ?? 0) >= cfg.hnr_seed_time;
    const rawDown = r.raw_downloaded ?? 0;
    const ratioMet = cfg.hnr_ratio > 0 && rawDown > 0 && (r.raw_uploaded ?? 0) >= rawDown * cfg.hnr_ratio;
    const link = `/torrents/${r.torrent_id}`;
    if (immune.has(r.user_id)) {
      await setStatus(db, r, 'exempt');
      res.exempted++;
    } else if (seeded || ratioMet) {
      await inTransaction(db, async (trx) => {
        await setStatus(trx, r, 'satisfied');
        if (r.status === 'prewarned') await notify(trx, r.user_id, 'members.hnr_satisfied', { torrent: r.name, link }, now);
      });
      res.satisfied++;
    } else if (r.deadline <= now) {
      await inTransaction(db, async (trx) => {
        await setStatus(trx, r, 'warned');
        await trx
          .insertInto('user_warning')
          .values({
            user_id: r.user_id,
            kind: 'hnr',
            reason: `Hit-and-run: ${r.name}`,
            created_by: null,
            created_at: now,
            expires_at: now + cfg.hnr_warning_ttl,
          })
          .execute();
        await notify(trx, r.user_id, 'members.hnr_warned', { torrent: r.name, expires: utcDate(now + cfg.hnr_warning_ttl), link }, now);
      });
      res.warned++;
    } else if (r.status === 'watching' && cfg.hnr_prewarn > 0 && r.deadline - cfg.hnr_prewarn <= now) {
      await inTransaction(db, async (trx) => {
        await setStatus(trx, r, 'prewarned');
        await notify(trx, r.user_id, 'members.hnr_prewarn', { torrent: r.name, deadline: utcDate(r.deadline), link }, now);
      });
      res.prewarned++;
    }
  }
  return res;
}

export interface RestrictionChange {
  userId: number;
  /** The new failure reason, or null when lifted. */
  reason: string | null;
}

/** Sets or lifts the members' download refusals from the ratio watches and hnr warnings. */
export async function updateRestrictions(db: Kysely<Database>, cfg: RulesConfig, now: number): Promise<RestrictionChange[]> {
  const wanted = new Map<number, string>();
  if (cfg.min_ratio > 0) {
    const expired = await db
      .selectFrom('user')
      .select(['id', 'uploaded', 'downloaded'])
      .where('ratio_watch_since', 'is not', null)
      .where('ratio_watch_since', '<=', now - cfg.ratio_watch)
      .where('enabled', '=', 1)
      .execute();
    for (const u of expired) wanted.set(u.id, ratioRefusal(u.uploaded, u.downloaded, cfg.min_ratio));
  }
  if (cfg.hnr_enabled && cfg.hnr_max_warnings > 0) {
    const rows = await db
      .selectFrom('user_warning')
      .select((eb) => ['user_id', eb.fn.countAll<number>().as('n')])
      .where('kind', '=', 'hnr')
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .groupBy('user_id')
      .having((eb) => eb.fn.countAll(), '>=', cfg.hnr_max_warnings)
      .execute();
    const immune = await immuneIds(
      db,
      rows.map((r) => r.user_id),
    );
    for (const r of rows) if (!immune.has(r.user_id) && !wanted.has(r.user_id)) wanted.set(r.user_id, hnrRefusal(Number(r.n), cfg.hnr_max_warnings));
  }
  const current = await db.selectFrom('user').select(['id', 'download_refused_reason']).where('download_refused', '=', 1).execute();
  const changes: RestrictionChange[] = [];
  for (const c of current) {
    const want = wanted.get(c.id);
    if (want === undefined) changes.push({ userId: c.id, reason: null });
    else if (want !== c.download_refused_reason) changes.push({ userId: c.id, reason: want });
    wanted.delete(c.id);
  }
  for (const [userId, reason] of wanted) changes.push({ userId, reason });
  for (const ch of changes) {
    await inTransaction(db, async (trx) => {
      await trx
        .updateTable('user')
        .set({ download_refused: ch.reason === null ? 0 : 1, download_refused_reason: ch.reason })
        .where('id', '=', ch.userId)
        .execute();
      const wasRefused = current.some((c) => c.id === ch.userId);
      if (ch.reason === null) await notify(trx, ch.userId, 'members.download_restored', {}, now);
      else if (!wasRefused) await notify(trx, ch.userId, 'members.download_refused', { reason: ch.reason, link: `/u/${ch.userId}` }, now);
    });
  }
  return changes;
}

export interface RulesRun {
  ratio: RatioWatchResult;
  hnr: HnrResult;
  restrictions: RestrictionChange[];
}

/** The periodic job: hit-and-runs, ratio watches, then refusals (the tracker is told of each change). */
export async function runRules(site: Pick<Site, 'db' | 'config' | 'tracker' | 'log'>, now: number): Promise<RulesRun> {
  const cfg = site.config.rules;
  const hnr = await updateHnr(site.db, cfg, now);
  const ratio = await updateRatioWatch(site.db, cfg, now);
  const restrictions = await updateRestrictions(site.db, cfg, now);
  for (const ch of restrictions) {
    try {
      await site.tracker.userChanged(ch.userId);
    } catch (err) {
      site.log.error({ err, userId: ch.userId }, 'telling the tracker about a download restriction failed');
    }
  }
  if (restrictions.length > 0 || hnr.warned > 0) site.log.info({ restrictions: restrictions.length, hnrWarned: hnr.warned, ratioWatch: ratio.entered.length }, 'sharing rules applied');
  return { ratio, hnr, restrictions };
}
