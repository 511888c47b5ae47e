/**
 * Notice-and-takedown: rights holders' notices, their review by staff, counter-notices by the
 * uploaders, the repeat-infringer policy and the public transparency counts.
 *
 * Life of a notice:
 *   received ──uphold──▶ upheld ──(every uploader's counter-notice accepted)──▶ restored
 *            └─reject──▶ rejected
 *
 * - `submitNotice` (public form and JSON API) validates the claimant, contact, works, the list of
 *   targets (links to this site's torrents, magnet links or info hashes, one per line) and the
 *   good-faith statement, and stores the notice with one `notice_item` per target, resolved to a
 *   torrent when the site has it, with the uploader at that time (repeat-infringer counts do not
 *   depend on what happens to the torrent later).
 * - `upholdNotice` (staff, `notice.review`) deletes each torrent with the reason
 *   "Removed after a copyright notice (#<id>)" (what announcing clients get after
 *   `Unregistered torrent: `), blocks its info hashes (and any hash given without a torrent),
 *   tells the tracker, notifies each uploader with a counter-notice link (and mails them), then
 *   applies the repeat-infringer policy to each uploader.
 * - `submitCounterNotice` (an uploader named in an upheld notice, once per notice) and
 *   `decideCounterNotice` (staff): accepting restores that uploader's torrents of the notice and
 *   lifts the blocks the notice added for them.
 *
 * Every staff decision writes audit rows in the transaction of the change.
 *
 * Notifications (kinds, rendered from the messages `lawful.notify.<kind>`; `link` makes the text a
 * link): `takedown` {notice, torrent, name, link}, `counter_accepted` and `counter_rejected`
 * {notice, note, link}, `repeat_infringer` {count}.
 */
import type { Kysely } from 'kysely';
import type { Database, NoticeStatus, Torrent, User } from '../../db/schema.js';
import { findTorrentByInfoHash } from '../../db/torrent.repository.js';
import { inTransaction } from '../../db/util.js';
import { base32Decode } from '../accounts/totp.js';
import { notify } from '../notifications.js';
import { indexTorrent } from '../search/indexer.js';
import type { LawfulSite } from './site.js';
import { audit } from '../staff/audit.js';
import { translator } from '../../web/context.js';
import { normaliseInfoHash } from './blocklist.js';

export const NOTICE_LIMITS = { claimant: 200, contact: 500, works: 5000, items: 100, item: 2000, note: 2000, counter: 5000 } as const;

/** The reason a takedown gives the torrent (shown to clients as `Unregistered torrent: <reason>`). */
export function takedownReason(noticeId: number): string {
  return `Removed after a copyright notice (#${noticeId})`;
}

/** Audit actor name of the automatic repeat-infringer policy (not a valid username). */
export const POLICY_ACTOR = 'system:repeat-infringer-policy';

// --- targets ------------------------------------------------------------------------------------

export type Target = { torrentId: number } | { infoHash: string };

const TORRENT_PATH = /^\/(?:t|torrents)\/(\d{1,10})(?:[/?#]|$)/;

/** A base32 (32 characters) BitTorrent info hash as 40 hex, or null. */
function base32Hash(s: string): string | null {
  if (!/^[A-Za-z2-7]{32}$/.test(s)) return null;
  const b = base32Decode(s);
  return b && b.length === 20 ? b.toString('hex') : null;
}

/**
 * What one line of a notice names: a torrent of this site (a link to its page or download, with
 * any host name, or a bare path), or an info hash (40 or 64 hex, or a magnet link's btih/btmh).
 * Null when the line is none of these.
 */
export function parseTarget(line: string): Target | null {
  const s = line.trim();
  if (s === '') return null;
  const hash = normaliseInfoHash(s);
  if (hash) return { infoHash: hash };
  if (/^magnet:\?/i.test(s)) {
    const params = new URLSearchParams(s.slice(s.indexOf('?') + 1));
    for (const xt of params.getAll('xt')) {
      const m = /^urn:btih:([0-9a-zA-Z]+)$/i.exec(xt);
      if (m) {
        const h = normaliseInfoHash(m[1]!) ?? base32Hash(m[1]!);
        if (h && h.length === 40) return { infoHash: h };
      }
      const v2 = /^urn:btmh:1220([0-9a-fA-F]{64})$/i.exec(xt);
      if (v2) return { infoHash: v2[1]!.toLowerCase() };
    }
    return null;
  }
  let path: string | null = null;
  if (s.startsWith('/')) path = s;
  else if (/^https?:\/\//i.test(s)) {
    try {
      path = new URL(s).pathname;
    } catch {
      path = null;
    }
  }
  const m = path ? TORRENT_PATH.exec(path) : null;
  if (m) return { torrentId: Number(m[1]) };
  return null;
}

export interface ResolvedItem {
  idx: number;
  given: string;
  torrentId: number | null;
  infoHash: string | null;
  uploaderId: number | null;
}

/** Looks each target up (a torrent id, a swarm hash, a full v2 hash); duplicates are dropped. */
export async function resolveTargets(db: Kysely<Database>, lines: ReadonlyArray<{ given: string; target: Target }>): Promise<ResolvedItem[]> {
  const out: ResolvedItem[] = [];
  const seen = new Set<string>();
  for (const { given, target } of lines) {
    let t: Torrent | undefined;
    let infoHash: string | null = null;
    if ('torrentId' in target) {
      t = await db.selectFrom('torrent').selectAll().where('id', '=', target.torrentId).executeTakeFirst();
    } else {
      infoHash = target.infoHash;
      t = await findTorrentByInfoHash(db, infoHash.slice(0, 40));
      if (t && infoHash.length === 64 && t.info_hash_v2 !== infoHash) t = undefined;
    }
    const key = t ? `t${t.id}` : infoHash ? `h${infoHash}` : `g${given}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      idx: out.length,
      given,
      torrentId: t?.id ?? null,
      infoHash: infoHash ?? t?.info_hash_v1 ?? t?.info_hash_v2 ?? null,
      uploaderId: t?.uploader_id ?? null,
    });
  }
  return out;
}

// --- submission ---------------------------------------------------------------------------------

export type NoticeField = 'claimant' | 'contact' | 'works' | 'items' | 'good_faith';
export type NoticeErrorCode = 'required' | 'too_long' | 'too_many_items' | 'item_invalid' | 'good_faith_required';

export interface NoticeProblem {
  field: NoticeField;
  code: NoticeErrorCode;
  /** item_invalid: the 1-based line; too_long / too_many_items: the limit. */
  line?: number;
  max?: number;
}

export interface NoticeInput {
  claimant: string;
  contact: string;
  works: string;
  /** One target per line (a string) or a list. */
  items: string | readonly string[];
  goodFaith: boolean;
  /** The statement the claimant affirmed, as shown to them (stored with the notice). */
  statement: string;
  source: 'form' | 'api';
}

export type NoticeResult = { ok: true; id: number; items: ResolvedItem[] } | { ok: false; problems: NoticeProblem[] };

/** The non-empty lines of the targets field. */
export function targetLines(items: string | readonly string[]): string[] {
  const list = typeof items === 'string' ? items.split(/\r?\n|\r/) : items.flatMap((x) => x.split(/\r?\n|\r/));
  return list.map((l) => l.trim()).filter((l) => l !== '');
}

export async function submitNotice(site: LawfulSite, input: NoticeInput): Promise<NoticeResult> {
  const problems: NoticeProblem[] = [];
  const text = (field: 'claimant' | 'contact' | 'works', v: string, max: number) => {
    const s = v.replace(/\r\n?/g, '\n').trim();
    if (s === '') problems.push({ field, code: 'required' });
    else if (s.length > max) problems.push({ field, code: 'too_long', max });
    return s;
  };
  const claimant = text('claimant', input.claimant, NOTICE_LIMITS.claimant);
  const contact = text('contact', input.contact, NOTICE_LIMITS.contact);
  const works = text('works', input.works, NOTICE_LIMITS.works);
  const lines = targetLines(input.items);
  const targets: Array<{ given: string; target: Target }> = [];
  if (lines.length === 0) problems.push({ field: 'items', code: 'required' });
  else if (lines.length > NOTICE_LIMITS.items) problems.push({ field: 'items', code: 'too_many_items', max: NOTICE_LIMITS.items });
  else {
    lines.forEach((given, i) => {
      const target = given.length <= NOTICE_LIMITS.item ? parseTarget(given) : null;
      if (target) targets.push({ given, target });
      else problems.push({ field: 'items', code: 'item_invalid', line: i + 1 });
    });
  }
  if (!input.goodFaith) problems.push({ field: 'good_faith', code: 'good_faith_required' });
  if (problems.length > 0) return { ok: false, problems };

  const now = site.now();
  return inTransaction(site.db, async (trx) => {
    const items = await resolveTargets(trx, targets);
    const { id } = await trx
      .insertInto('notice')
      .values({ claimant, contact, works, statement: input.statement, source: input.source, reviewer_id: null, decision_note: null, created_at: now, decided_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('notice_item')
      .values(items.map((it) => ({ notice_id: id, idx: it.idx, given: it.given, torrent_id: it.torrentId, info_hash: it.infoHash, uploader_id: it.uploaderId })))
      .execute();
    return { ok: true as const, id, items };
  });
}

// --- reading ------------------------------------------------------------------------------------

export interface NoticeSummary {
  id: number;
  claimant: string;
  status: NoticeStatus;
  source: 'form' | 'api';
  createdAt: number;
  decidedAt: number | null;
  items: number;
  pendingCounters: number;
}

export const NOTICE_STATUSES: readonly NoticeStatus[] = ['received', 'reviewing', 'upheld', 'rejected', 'restored'];

export async function listNotices(db: Kysely<Database>, opts: { status?: NoticeStatus | null; limit?: number; offset?: number } = {}): Promise<{ rows: NoticeSummary[]; total: number }> {
  let q = db.selectFrom('notice');
  if (opts.status) q = q.where('status', '=', opts.status);
  const total = Number((await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await q
    .select((eb) => [
      'notice.id',
      'notice.claimant',
      'notice.status',
      'notice.source',
      'notice.created_at',
      'notice.decided_at',
      eb.selectFrom('notice_item').select((e) => e.fn.countAll<number>().as('n')).whereRef('notice_item.notice_id', '=', 'notice.id').as('items'),
      eb
        .selectFrom('counter_notice')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('counter_notice.notice_id', '=', 'notice.id')
        .where('counter_notice.status', '=', 'received')
        .as('pending'),
    ])
    .orderBy('notice.created_at', 'desc')
    .orderBy('notice.id', 'desc')
    .limit(opts.limit ?? 50)
    .offset(opts.offset ?? 0)
    .execute();
  return {
    total,
    rows: rows.map((r) => ({
      id: r.id,
      claimant: r.claimant,
      status: r.status,
      source: r.source,
      createdAt: r.created_at,
      decidedAt: r.decided_at,
      items: Number(r.items ?? 0),
      pendingCounters: Number(r.pending ?? 0),
    })),
  };
}

export interface NoticeItemView {
  idx: number;
  given: string;
  infoHash: string | null;
  torrent: { id: number; name: string; slug: string | null; status: Torrent['status']; deletedReason: string | null } | null;
  uploader: { id: number; username: string } | null;
}

export interface CounterNoticeView {
  id: number;
  noticeId: number;
  user: { id: number; username: string } | null;
  statement: string;
  status: 'received' | 'accepted' | 'rejected';
  createdAt: number;
  decidedAt: number | null;
}

export interface NoticeView {
  id: number;
  claimant: string;
  contact: string;
  works: string;
  statement: string;
  status: NoticeStatus;
  source: 'form' | 'api';
  reviewer: { id: number; username: string } | null;
  decisionNote: string | null;
  createdAt: number;
  decidedAt: number | null;
  items: NoticeItemView[];
  counters: CounterNoticeView[];
}

export async function getNotice(db: Kysely<Database>, id: number): Promise<NoticeView | null> {
  const n = await db
    .selectFrom('notice')
    .leftJoin('user', 'user.id', 'notice.reviewer_id')
    .selectAll('notice')
    .select('user.username as reviewer_name')
    .where('notice.id', '=', id)
    .executeTakeFirst();
  if (!n) return null;
  const items = await db
    .selectFrom('notice_item as i')
    .leftJoin('torrent as t', 't.id', 'i.torrent_id')
    .leftJoin('user as u', 'u.id', 'i.uploader_id')
    .select(['i.idx', 'i.given', 'i.info_hash', 'i.torrent_id', 'i.uploader_id', 't.name', 't.slug', 't.status', 't.deleted_reason', 'u.username'])
    .where('i.notice_id', '=', id)
    .orderBy('i.idx')
    .execute();
  const counters = await listCounterNotices(db, { noticeId: id });
  return {
    id: n.id,
    claimant: n.claimant,
    contact: n.contact,
    works: n.works,
    statement: n.statement,
    status: n.status,
    source: n.source,
    reviewer: n.reviewer_id !== null ? { id: n.reviewer_id, username: n.reviewer_name ?? `#${n.reviewer_id}` } : null,
    decisionNote: n.decision_note,
    createdAt: n.created_at,
    decidedAt: n.decided_at,
    items: items.map((r) => ({
      idx: r.idx,
      given: r.given,
      infoHash: r.info_hash,
      torrent: r.torrent_id !== null && r.name !== null && r.status !== null ? { id: r.torrent_id, name: r.name, slug: r.slug, status: r.status, deletedReason: r.deleted_reason } : null,
      uploader: r.uploader_id !== null ? { id: r.uploader_id, username: r.username ?? `#${r.uploader_id}` } : null,
    })),
    counters,
  };
}

export async function listCounterNotices(db: Kysely<Database>, opts: { noticeId?: number; status?: CounterNoticeView['status']; limit?: number } = {}): Promise<CounterNoticeView[]> {
  let q = db.selectFrom('counter_notice as c').leftJoin('user as u', 'u.id', 'c.user_id').selectAll('c').select('u.username');
  if (opts.noticeId !== undefined) q = q.where('c.notice_id', '=', opts.noticeId);
  if (opts.status) q = q.where('c.status', '=', opts.status);
  const rows = await q.orderBy('c.created_at').orderBy('c.id').limit(opts.limit ?? 500).execute();
  return rows.map((r) => ({
    id: r.id,
    noticeId: r.notice_id,
    user: r.user_id !== null ? { id: r.user_id, username: r.username ?? `#${r.user_id}` } : null,
    statement: r.statement,
    status: r.status,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
  }));
}

// --- decisions ----------------------------------------------------------------------------------

export interface StaffActor {
  id: number;
  username: string;
}

export type DecisionResult = { ok: true; torrents: number[]; blocked: string[]; disabled: number[] } | { ok: false; error: 'not_found' | 'already_decided' | 'note_too_long' };

function cleanNote(note: string | null | undefined): string | null {
  const s = (note ?? '').replace(/\r\n?/g, '\n').trim();
  return s === '' ? null : s;
}

/** Upholds a notice: takedown, blocklist, notifications, then the repeat-infringer policy. */
export async function upholdNotice(site: LawfulSite, actor: StaffActor, noticeId: number, noteRaw?: string | null): Promise<DecisionResult> {
  const note = cleanNote(noteRaw);
  if (note && note.length > NOTICE_LIMITS.note) return { ok: false, error: 'note_too_long' };
  const now = site.now();
  const reason = takedownReason(noticeId);
  const r = await inTransaction(site.db, async (trx) => {
    const before = await trx.selectFrom('notice').select(['id', 'status']).where('id', '=', noticeId).executeTakeFirst();
    if (!before) return { ok: false as const, error: 'not_found' as const };
    const upd = await trx
      .updateTable('notice')
      .set({ status: 'upheld', reviewer_id: actor.id, decision_note: note, decided_at: now })
      .where('id', '=', noticeId)
      .where('status', 'in', ['received', 'reviewing'])
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) return { ok: false as const, error: 'already_decided' as const };
    const items = await trx.selectFrom('notice_item').selectAll().where('notice_id', '=', noticeId).orderBy('idx').execute();
    const torrents: number[] = [];
    const hashes = new Set<string>();
    const removed: Array<{ id: number; name: string; uploaderId: number | null }> = [];
    for (const it of items) {
      if (it.torrent_id === null) {
        if (it.info_hash) hashes.add(it.info_hash);
        continue;
      }
      const t = await trx.selectFrom('torrent').selectAll().where('id', '=', it.torrent_id).executeTakeFirst();
      if (!t) continue;
      if (t.info_hash_v1) hashes.add(t.info_hash_v1);
      if (t.info_hash_v2) hashes.add(t.info_hash_v2);
      if (t.status === 'deleted') continue;
      await trx.updateTable('torrent').set({ status: 'deleted', deleted_reason: reason, deleted_at: now }).where('id', '=', t.id).execute();
      torrents.push(t.id);
      removed.push({ id: t.id, name: t.name, uploaderId: it.uploader_id ?? t.uploader_id });
      await audit(trx, {
        actorId: actor.id,
        actorName: actor.username,
        action: 'torrent.takedown',
        targetType: 'torrent',
        targetId: t.id,
        reason,
        before: { status: t.status, deleted_reason: t.deleted_reason },
        after: { status: 'deleted', deleted_reason: reason, notice_id: noticeId },
        now,
      });
    }
    const blocked: string[] = [];
    for (const h of hashes) {
      const res = await trx
        .insertInto('infohash_block')
        .values({ info_hash: h, reason, notice_id: noticeId, created_by: actor.id, created_at: now })
        .onConflict((oc) => oc.column('info_hash').doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0n) > 0) blocked.push(h);
    }
    for (const t of removed) {
      if (t.uploaderId !== null) await notify(trx, t.uploaderId, 'takedown', { notice: noticeId, torrent: t.id, name: t.name, link: `/legal/counter/${noticeId}` }, now);
    }
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: 'notice.uphold',
      targetType: 'notice',
      targetId: noticeId,
      reason: note,
      before: { status: before.status },
      after: { status: 'upheld', torrents, blocked },
      now,
    });
    return { ok: true as const, torrents, blocked, removed };
  });
  if (!r.ok) return r;

  for (const id of r.torrents) await tellTorrentChanged(site, id);
  const uploaders = [...new Set(r.removed.map((t) => t.uploaderId).filter((x): x is number => x !== null))];
  for (const t of r.removed) if (t.uploaderId !== null) await mailTakedown(site, t.uploaderId, noticeId, t.name);
  // Every uploader named in the notice counts, even when their torrent was already gone.
  const named = await site.db.selectFrom('notice_item').select('uploader_id').distinct().where('notice_id', '=', noticeId).where('uploader_id', 'is not', null).execute();
  for (const u of named) if (!uploaders.includes(u.uploader_id!)) uploaders.push(u.uploader_id!);
  const disabled: number[] = [];
  for (const uid of uploaders) if (await applyRepeatInfringerPolicy(site, uid, noticeId)) disabled.push(uid);
  return { ok: true, torrents: r.torrents, blocked: r.blocked, disabled };
}

export async function rejectNotice(site: LawfulSite, actor: StaffActor, noticeId: number, noteRaw?: string | null): Promise<DecisionResult> {
  const note = cleanNote(noteRaw);
  if (note && note.length > NOTICE_LIMITS.note) return { ok: false, error: 'note_too_long' };
  const now = site.now();
  return inTransaction(site.db, async (trx) => {
    const before = await trx.selectFrom('notice').select(['id', 'status']).where('id', '=', noticeId).executeTakeFirst();
    if (!before) return { ok: false as const, error: 'not_found' as const };
    const upd = await trx
      .updateTable('notice')
      .set({ status: 'rejected', reviewer_id: actor.id, decision_note: note, decided_at: now })
      .where('id', '=', noticeId)
      .where('status', 'in', ['received', 'reviewing'])
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) return { ok: false as const, error: 'already_decided' as const };
    await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'notice.reject', targetType: 'notice', targetId: noticeId, reason: note, before: { status: before.status }, after: { status: 'rejected' }, now });
    return { ok: true as const, torrents: [], blocked: [], disabled: [] };
  });
}

async function tellTorrentChanged(site: LawfulSite, torrentId: number): Promise<void> {
  try {
    await site.tracker.torrentChanged(torrentId);
  } catch (err) {
    // The tracker's periodic refresh catches up.
    site.log.error({ err, torrentId }, 'telling the tracker about a takedown or restoration failed');
  }
}

async function mailTakedown(site: LawfulSite, userId: number, noticeId: number, name: string): Promise<void> {
  const u = await site.db.selectFrom('user').select(['username', 'email', 'locale', 'deleted_at']).where('id', '=', userId).executeTakeFirst();
  if (!u?.email || u.deleted_at) return;
  const t = translator(u.locale ?? site.config.site.default_locale);
  const siteName = site.config.site.name;
  try {
    await site.mailer.send({
      to: u.email,
      subject: t('lawful.mail.takedown.subject', { site: siteName, notice: noticeId }),
      text: t('lawful.mail.takedown.body', { site: siteName, username: u.username, name, notice: noticeId, link: `${site.publicUrl}/legal/counter/${noticeId}` }),
    });
  } catch (err) {
    site.log.error({ err, userId }, 'mailing a takedown notification failed');
  }
}

// --- repeat infringers --------------------------------------------------------------------------

/**
 * Upheld notices naming the member as uploader, decided at or after `since`, not counting those
 * for which the member's counter-notice was accepted.
 */
export async function upheldNoticeCount(db: Kysely<Database>, userId: number, since = 0): Promise<number> {
  const r = await db
    .selectFrom('notice_item as i')
    .innerJoin('notice as n', 'n.id', 'i.notice_id')
    .select((eb) => eb.fn.count<number>('i.notice_id').distinct().as('n'))
    .where('i.uploader_id', '=', userId)
    .where('n.status', 'in', ['upheld', 'restored'])
    .where('n.decided_at', '>=', since)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('counter_notice as c')
            .select('c.id')
            .whereRef('c.notice_id', '=', 'n.id')
            .where('c.user_id', '=', userId)
            .where('c.status', '=', 'accepted'),
        ),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Upheld notice counts of several members (over all time), for staff pages. */
export async function upheldNoticeCounts(db: Kysely<Database>, userIds: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const id of new Set(userIds)) out.set(id, await upheldNoticeCount(db, id));
  return out;
}

/**
 * The repeat-infringer policy: a member with `lawful.repeat_infringer_notices` upheld notices
 * within `lawful.repeat_infringer_period` is disabled (audited under POLICY_ACTOR; the tracker is
 * told at once). Administrators are exempt (the policy must not lock the site's operators out).
 * Returns true when it disabled the account.
 */
export async function applyRepeatInfringerPolicy(site: LawfulSite, userId: number, noticeId: number | null = null): Promise<boolean> {
  const { repeat_infringer_notices: limit, repeat_infringer_period: period } = site.config.lawful;
  if (limit <= 0) return false;
  const now = site.now();
  const count = await upheldNoticeCount(site.db, userId, now - period);
  if (count < limit) return false;
  const disabledReason = `Repeat infringer: ${count} upheld copyright notices`;
  const done = await inTransaction(site.db, async (trx) => {
    const u = await trx.selectFrom('user').select(['id', 'username', 'role', 'enabled', 'disabled_reason', 'deleted_at']).where('id', '=', userId).executeTakeFirst();
    if (!u || u.enabled !== 1 || u.deleted_at !== null || u.role === 'admin') return false;
    await trx.updateTable('user').set({ enabled: 0, disabled_reason: disabledReason, updated_at: now }).where('id', '=', userId).execute();
    await audit(trx, {
      actorId: null,
      actorName: POLICY_ACTOR,
      action: 'user.disable',
      targetType: 'user',
      targetId: userId,
      reason: disabledReason + (noticeId !== null ? ` (after notice #${noticeId})` : ''),
      before: { enabled: 1, disabled_reason: u.disabled_reason },
      after: { enabled: 0, disabled_reason: disabledReason, upheld_notices: count },
      now,
    });
    await notify(trx, userId, 'repeat_infringer', { count }, now);
    return true;
  });
  if (done) {
    try {
      await site.tracker.userChanged(userId);
    } catch (err) {
      site.log.error({ err, userId }, 'telling the tracker about a disabled account failed');
    }
  }
  return done;
}

// --- counter-notices ----------------------------------------------------------------------------

export type CounterEligibility =
  | { ok: true; torrents: NoticeItemView[] }
  | { ok: false; reason: 'not_found' | 'not_upheld' | 'not_uploader' | 'already_sent' };

/** Whether the member may send a counter-notice for this notice (and for which torrents). */
export async function counterEligibility(db: Kysely<Database>, user: Pick<User, 'id'>, noticeId: number): Promise<CounterEligibility> {
  const n = await getNotice(db, noticeId);
  if (!n) return { ok: false, reason: 'not_found' };
  const mine = n.items.filter((i) => i.uploader?.id === user.id);
  if (mine.length === 0) return { ok: false, reason: 'not_uploader' };
  if (n.counters.some((c) => c.user?.id === user.id)) return { ok: false, reason: 'already_sent' };
  if (n.status !== 'upheld') return { ok: false, reason: 'not_upheld' };
  return { ok: true, torrents: mine };
}

export type CounterField = 'statement' | 'good_faith';
export type CounterResult =
  | { ok: true; id: number }
  | { ok: false; reason: 'not_found' | 'not_upheld' | 'not_uploader' | 'already_sent' }
  | { ok: false; reason: 'invalid'; problems: Array<{ field: CounterField; code: 'required' | 'too_long' | 'good_faith_required'; max?: number }> };

export async function submitCounterNotice(site: LawfulSite, user: Pick<User, 'id'>, noticeId: number, input: { statement: string; goodFaith: boolean }): Promise<CounterResult> {
  const statement = input.statement.replace(/\r\n?/g, '\n').trim();
  const problems: Array<{ field: CounterField; code: 'required' | 'too_long' | 'good_faith_required'; max?: number }> = [];
  if (statement === '') problems.push({ field: 'statement', code: 'required' });
  else if (statement.length > NOTICE_LIMITS.counter) problems.push({ field: 'statement', code: 'too_long', max: NOTICE_LIMITS.counter });
  if (!input.goodFaith) problems.push({ field: 'good_faith', code: 'good_faith_required' });
  const elig = await counterEligibility(site.db, user, noticeId);
  if (!elig.ok) return { ok: false, reason: elig.reason };
  if (problems.length > 0) return { ok: false, reason: 'invalid', problems };
  const now = site.now();
  const r = await site.db
    .insertInto('counter_notice')
    .values({ notice_id: noticeId, user_id: user.id, statement, status: 'received', created_at: now, decided_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ok: true, id: r.id };
}

export type CounterDecision = { ok: true; restored: number[] } | { ok: false; error: 'not_found' | 'already_decided' | 'note_too_long' };

/**
 * Accepts (restores the member's torrents of the notice, lifts the notice's blocks on them) or
 * rejects a counter-notice. When every uploader named in the notice has had a counter-notice
 * accepted, the notice becomes 'restored'.
 */
export async function decideCounterNotice(site: LawfulSite, actor: StaffActor, counterId: number, accept: boolean, noteRaw?: string | null): Promise<CounterDecision> {
  const note = cleanNote(noteRaw);
  if (note && note.length > NOTICE_LIMITS.note) return { ok: false, error: 'note_too_long' };
  const now = site.now();
  const r = await inTransaction(site.db, async (trx) => {
    const c = await trx.selectFrom('counter_notice').selectAll().where('id', '=', counterId).executeTakeFirst();
    if (!c) return { ok: false as const, error: 'not_found' as const };
    const upd = await trx
      .updateTable('counter_notice')
      .set({ status: accept ? 'accepted' : 'rejected', decided_at: now })
      .where('id', '=', counterId)
      .where('status', '=', 'received')
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) === 0) return { ok: false as const, error: 'already_decided' as const };
    const restored: number[] = [];
    if (accept && c.user_id !== null) {
      const reason = takedownReason(c.notice_id);
      const items = await trx.selectFrom('notice_item').selectAll().where('notice_id', '=', c.notice_id).where('uploader_id', '=', c.user_id).execute();
      for (const it of items) {
        const hashes: string[] = [];
        if (it.info_hash) hashes.push(it.info_hash);
        if (it.torrent_id !== null) {
          const t = await trx.selectFrom('torrent').selectAll().where('id', '=', it.torrent_id).executeTakeFirst();
          if (t) {
            if (t.info_hash_v1) hashes.push(t.info_hash_v1);
            if (t.info_hash_v2) hashes.push(t.info_hash_v2);
            // Only what this notice removed comes back (not a torrent deleted for another reason).
            if (t.status === 'deleted' && t.deleted_reason === reason) {
              await trx.updateTable('torrent').set({ status: 'active', deleted_reason: null, deleted_at: null, updated_at: now }).where('id', '=', t.id).execute();
              restored.push(t.id);
              await audit(trx, {
                actorId: actor.id,
                actorName: actor.username,
                action: 'torrent.restore',
                targetType: 'torrent',
                targetId: t.id,
                reason: note ?? `Counter-notice #${counterId} accepted`,
                before: { status: 'deleted', deleted_reason: reason },
                after: { status: 'active' },
                now,
              });
            }
          }
        }
        if (hashes.length > 0) await trx.deleteFrom('infohash_block').where('notice_id', '=', c.notice_id).where('info_hash', 'in', hashes).execute();
      }
      // Restored when every uploader named in the notice had a counter-notice accepted.
      const named = await trx.selectFrom('notice_item').select('uploader_id').distinct().where('notice_id', '=', c.notice_id).where('uploader_id', 'is not', null).execute();
      const accepted = await trx.selectFrom('counter_notice').select('user_id').where('notice_id', '=', c.notice_id).where('status', '=', 'accepted').execute();
      const ok = new Set(accepted.map((a) => a.user_id));
      if (named.every((n) => ok.has(n.uploader_id))) {
        await trx.updateTable('notice').set({ status: 'restored' }).where('id', '=', c.notice_id).where('status', '=', 'upheld').execute();
      }
    }
    await audit(trx, {
      actorId: actor.id,
      actorName: actor.username,
      action: accept ? 'counter_notice.accept' : 'counter_notice.reject',
      targetType: 'counter_notice',
      targetId: counterId,
      reason: note,
      before: { status: 'received', notice_id: c.notice_id },
      after: { status: accept ? 'accepted' : 'rejected', restored },
      now,
    });
    if (c.user_id !== null) {
      await notify(trx, c.user_id, accept ? 'counter_accepted' : 'counter_rejected', { notice: c.notice_id, note: note ?? '', link: `/legal/counter/${c.notice_id}` }, now);
    }
    return { ok: true as const, restored };
  });
  if (!r.ok) return r;
  for (const id of r.restored) {
    await tellTorrentChanged(site, id);
    try {
      await indexTorrent(site.db, id);
    } catch (err) {
      site.log.error({ err, torrentId: id }, 'reindexing a restored torrent failed');
    }
  }
  return r;
}

// --- transparency -------------------------------------------------------------------------------

export interface MonthCounts {
  /** "YYYY-MM" (UTC). */
  month: string;
  received: number;
  upheld: number;
  rejected: number;
  counterNotices: number;
  restored: number;
}

function monthOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 7);
}

/**
 * Counts per calendar month (UTC), newest first: notices received (by arrival), upheld and
 * rejected (by decision; a notice later restored was upheld first), counter-notices received, and
 * counter-notices accepted (torrents restored, by decision).
 */
export async function transparencyReport(db: Kysely<Database>): Promise<MonthCounts[]> {
  const months = new Map<string, MonthCounts>();
  const bump = (at: number | null, k: Exclude<keyof MonthCounts, 'month'>) => {
    if (at === null) return;
    const m = monthOf(at);
    let row = months.get(m);
    if (!row) months.set(m, (row = { month: m, received: 0, upheld: 0, rejected: 0, counterNotices: 0, restored: 0 }));
    row[k]++;
  };
  const notices = await db.selectFrom('notice').select(['created_at', 'decided_at', 'status']).execute();
  for (const n of notices) {
    bump(n.created_at, 'received');
    if (n.status === 'upheld' || n.status === 'restored') bump(n.decided_at, 'upheld');
    else if (n.status === 'rejected') bump(n.decided_at, 'rejected');
  }
  const counters = await db.selectFrom('counter_notice').select(['created_at', 'decided_at', 'status']).execute();
  for (const c of counters) {
    bump(c.created_at, 'counterNotices');
    if (c.status === 'accepted') bump(c.decided_at, 'restored');
  }
  return [...months.values()].sort((a, b) => (a.month < b.month ? 1 : a.month > b.month ? -1 : 0));
}
