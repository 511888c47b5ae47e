/**
 * The requests board: a member asks for something (title, description, category); members add
 * upload credit to it as a bounty, taken from their uploaded amount at once (never below zero);
 * another member fills it with a torrent; the requester confirms, and the whole bounty moves to
 * the filler's uploaded amount, or rejects the fill and the request opens again.
 *
 *   open --fill--> filled --confirm--> confirmed
 *     ^              |
 *     +---reject-----+          open/filled --close--> closed (bounties refunded to their givers)
 *
 * Every step is one transaction whose first write is a conditional update of the request row on
 * its expected status: two racing steps cannot both pass, so credit moves exactly once. Bounty
 * givers are debited with `uploaded = uploaded - amount where uploaded >= amount`, which refuses
 * overspending even when two bounties race.
 */
import type { Kysely } from 'kysely';
import type { Database, RequestStatus } from '../../db/schema.js';
import { inTransaction } from '../../db/util.js';
import { audit } from '../staff/audit.js';
import { notify } from '../notifications.js';
import { checkLength, cleanLine, cleanText, fail, num, touched, type Actor, type Result } from './common.js';

export const REQUEST_STATUSES: readonly RequestStatus[] = ['open', 'filled', 'confirmed', 'closed'];
export const REQUEST_TITLE_MAX = 200;
export const REQUEST_DESCRIPTION_MAX = 20_000;
export const REQUESTS_PER_PAGE = 25;
/** Bounties are at least 1 MiB and at most 1 PiB. */
export const BOUNTY_MIN = 1024 * 1024;
export const BOUNTY_MAX = 1024 ** 5;

/** Thrown inside a transaction to roll it back with an error code. */
class Abort<E extends string> extends Error {
  constructor(readonly code: E) {
    super(code);
  }
}

async function abortable<T, E extends string>(fn: () => Promise<Result<T, E>>): Promise<Result<T, E>> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Abort) return fail(e.code as E);
    throw e;
  }
}

export function isRequestStatus(s: unknown): s is RequestStatus {
  return typeof s === 'string' && (REQUEST_STATUSES as readonly string[]).includes(s);
}

export interface RequestView {
  id: number;
  title: string;
  description: string;
  status: RequestStatus;
  bounty: number;
  created_at: number;
  filled_at: number | null;
  confirmed_at: number | null;
  category_id: number | null;
  category_name_en: string | null;
  category_name_fr: string | null;
  requester_id: number | null;
  requester_name: string | null;
  filler_id: number | null;
  filler_name: string | null;
  torrent_id: number | null;
  torrent_name: string | null;
  torrent_slug: string | null;
  torrent_status: string | null;
}

function requestQuery(db: Kysely<Database>) {
  return db
    .selectFrom('request')
    .leftJoin('category', 'category.id', 'request.category_id')
    .leftJoin('user as requester', (j) => j.onRef('requester.id', '=', 'request.user_id').on('requester.deleted_at', 'is', null))
    .leftJoin('user as filler', (j) => j.onRef('filler.id', '=', 'request.filled_by').on('filler.deleted_at', 'is', null))
    .leftJoin('torrent', 'torrent.id', 'request.filled_torrent_id')
    .select([
      'request.id as id',
      'request.title as title',
      'request.description as description',
      'request.status as status',
      'request.bounty as bounty',
      'request.created_at as created_at',
      'request.filled_at as filled_at',
      'request.confirmed_at as confirmed_at',
      'request.category_id as category_id',
      'category.name_en as category_name_en',
      'category.name_fr as category_name_fr',
      'request.user_id as requester_id',
      'requester.username as requester_name',
      'request.filled_by as filler_id',
      'filler.username as filler_name',
      'request.filled_torrent_id as torrent_id',
      'torrent.name as torrent_name',
      'torrent.slug as torrent_slug',
      'torrent.status as torrent_status',
    ]);
}

function fixNumbers(r: RequestView): RequestView {
  return { ...r, bounty: num(r.bounty) };
}

export async function getRequest(db: Kysely<Database>, id: number): Promise<RequestView | undefined> {
  const r = await requestQuery(db).where('request.id', '=', id).executeTakeFirst();
  return r ? fixNumbers(r) : undefined;
}

/** A page of the board, newest first; `status` filters (all statuses when null). */
export async function listRequests(
  db: Kysely<Database>,
  o: { status: RequestStatus | null; page: number; perPage?: number },
): Promise<{ rows: RequestView[]; total: number }> {
  const perPage = o.perPage ?? REQUESTS_PER_PAGE;
  let q = requestQuery(db);
  let c = db.selectFrom('request').select((eb) => eb.fn.countAll<number>().as('n'));
  if (o.status) {
    q = q.where('request.status', '=', o.status);
    c = c.where('status', '=', o.status);
  }
  const [rows, total] = await Promise.all([
    q.orderBy('request.created_at', 'desc').orderBy('request.id', 'desc').limit(perPage).offset((Math.max(1, o.page) - 1) * perPage).execute(),
    c.executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(fixNumbers), total: num(total.n) };
}

export interface BountyView {
  user_id: number | null;
  username: string | null;
  amount: number;
  created_at: number;
}

export async function listBounties(db: Kysely<Database>, requestId: number): Promise<BountyView[]> {
  const rows = await db
    .selectFrom('request_bounty')
    .leftJoin('user', (j) => j.onRef('user.id', '=', 'request_bounty.user_id').on('user.deleted_at', 'is', null))
    .select(['request_bounty.user_id as user_id', 'user.username as username', 'request_bounty.amount as amount', 'request_bounty.created_at as created_at'])
    .where('request_bounty.request_id', '=', requestId)
    .orderBy('request_bounty.id')
    .execute();
  return rows.map((r) => ({ ...r, amount: num(r.amount) }));
}

export type RequestFormError = 'title_empty' | 'title_too_long' | 'description_too_long' | 'category_unknown';

export interface RequestInput {
  title: unknown;
  description: unknown;
  categoryId: number | null;
}

export async function validateRequest(db: Kysely<Database>, i: RequestInput): Promise<{ title: string; description: string; errors: RequestFormError[] }> {
  const title = cleanLine(i.title);
  const description = cleanText(i.description);
  const errors: RequestFormError[] = [];
  const t = checkLength(title, REQUEST_TITLE_MAX);
  if (t === 'empty') errors.push('title_empty');
  if (t === 'too_long') errors.push('title_too_long');
  if (description.length > REQUEST_DESCRIPTION_MAX) errors.push('description_too_long');
  if (i.categoryId !== null) {
    const c = await db.selectFrom('category').select('id').where('id', '=', i.categoryId).executeTakeFirst();
    if (!c) errors.push('category_unknown');
  }
  return { title, description, errors };
}

export async function createRequest(
  db: Kysely<Database>,
  o: RequestInput & { userId: number; now: number },
): Promise<{ ok: true; id: number } | { ok: false; errors: RequestFormError[] }> {
  const v = await validateRequest(db, o);
  if (v.errors.length > 0) return { ok: false, errors: v.errors };
  const r = await db
    .insertInto('request')
    .values({ user_id: o.userId, title: v.title, description: v.description, category_id: o.categoryId, status: 'open', bounty: 0, created_at: o.now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ok: true, id: r.id };
}

export type BountyError = 'invalid_amount' | 'insufficient' | 'not_open';

/**
 * Adds `amount` bytes of the giver's upload credit to an open request: the giver's uploaded
 * amount drops at once, and never below zero.
 */
export async function addBounty(
  db: Kysely<Database>,
  o: { requestId: number; userId: number; amount: number; now: number },
): Promise<Result<{ bounty: number }, BountyError>> {
  if (!Number.isSafeInteger(o.amount) || o.amount < BOUNTY_MIN || o.amount > BOUNTY_MAX) return fail('invalid_amount');
  return abortable(() =>
    inTransaction(db, async (trx) => {
      const req = await trx
        .updateTable('request')
        .set((eb) => ({ bounty: eb('bounty', '+', o.amount) }))
        .where('id', '=', o.requestId)
        .where('status', '=', 'open')
        .returning('bounty')
        .executeTakeFirst();
      if (!req) throw new Abort('not_open' as const);
      const debit = await trx
        .updateTable('user')
        .set((eb) => ({ uploaded: eb('uploaded', '-', o.amount), updated_at: o.now }))
        .where('id', '=', o.userId)
        .where('uploaded', '>=', o.amount)
        .executeTakeFirst();
      if (touched(debit) !== 1) throw new Abort('insufficient' as const);
      await trx.insertInto('request_bounty').values({ request_id: o.requestId, user_id: o.userId, amount: o.amount, created_at: o.now }).execute();
      return { ok: true as const, bounty: num(req.bounty) };
    }),
  );
}

/**
 * A torrent reference as members paste it: its id, `/t/<id>`, `/torrents/<id>/<slug>` or a full
 * URL of either; null when it names none.
 */
export function parseTorrentRef(s: unknown): number | null {
  if (typeof s !== 'string') return null;
  const v = s.trim();
  let m = /^#?([1-9][0-9]{0,15})$/.exec(v);
  if (!m) {
    let path = v;
    try {
      if (/^https?:\/\//i.test(v)) path = new URL(v).pathname;
    } catch {
      return null;
    }
    m = /^\/(?:t|torrents)\/([1-9][0-9]{0,15})(?:\/[^/?#]*)?\/?$/.exec(path);
  }
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

export type FillError = 'not_open' | 'own_request' | 'torrent_not_found';

/** Fills an open request with an active torrent; the requester is notified. */
export async function fillRequest(
  db: Kysely<Database>,
  o: { requestId: number; userId: number; torrentId: number; now: number },
): Promise<Result<object, FillError>> {
  return abortable(() =>
    inTransaction(db, async (trx) => {
      const tor = await trx.selectFrom('torrent').select(['id', 'name', 'status']).where('id', '=', o.torrentId).executeTakeFirst();
      if (!tor || tor.status !== 'active') throw new Abort('torrent_not_found' as const);
      const req = await trx.selectFrom('request').select(['user_id', 'title']).where('id', '=', o.requestId).executeTakeFirst();
      if (!req) throw new Abort('not_open' as const);
      if (req.user_id === o.userId) throw new Abort('own_request' as const);
      const r = await trx
        .updateTable('request')
        .set({ status: 'filled', filled_torrent_id: o.torrentId, filled_by: o.userId, filled_at: o.now })
        .where('id', '=', o.requestId)
        .where('status', '=', 'open')
        .executeTakeFirst();
      if (touched(r) !== 1) throw new Abort('not_open' as const);
      if (req.user_id !== null) {
        await notify(trx, req.user_id, 'request_filled', { request: o.requestId, title: req.title, torrent: o.torrentId, link: `/requests/${o.requestId}` }, o.now);
      }
      return { ok: true as const };
    }),
  );
}

export type ConfirmError = 'not_requester' | 'not_filled' | 'torrent_gone';

/** The requester accepts the fill: the bounty moves to the filler, once. */
export async function confirmFill(
  db: Kysely<Database>,
  o: { requestId: number; userId: number; now: number },
): Promise<Result<{ bounty: number; fillerId: number | null }, ConfirmError>> {
  return abortable(() =>
    inTransaction(db, async (trx) => {
      const req = await trx.selectFrom('request').select(['user_id', 'filled_torrent_id']).where('id', '=', o.requestId).executeTakeFirst();
      if (!req || req.user_id !== o.userId) throw new Abort('not_requester' as const);
      const r = await trx
        .updateTable('request')
        .set({ status: 'confirmed', confirmed_at: o.now })
        .where('id', '=', o.requestId)
        .where('status', '=', 'filled')
        .where('user_id', '=', o.userId)
        .returning(['bounty', 'filled_by', 'filled_torrent_id', 'title'])
        .executeTakeFirst();
      if (!r) throw new Abort('not_filled' as const);
      const tor = r.filled_torrent_id === null ? undefined : await trx.selectFrom('torrent').select('status').where('id', '=', r.filled_torrent_id).executeTakeFirst();
      if (!tor || tor.status !== 'active') throw new Abort('torrent_gone' as const);
      const bounty = num(r.bounty);
      if (r.filled_by !== null && bounty > 0) {
        await trx
          .updateTable('user')
          .set((eb) => ({ uploaded: eb('uploaded', '+', bounty), updated_at: o.now }))
          .where('id', '=', r.filled_by)
          .execute();
      }
      if (r.filled_by !== null) {
        await notify(trx, r.filled_by, 'request_confirmed', { request: o.requestId, title: r.title, bounty, link: `/requests/${o.requestId}` }, o.now);
      }
      return { ok: true as const, bounty, fillerId: r.filled_by };
    }),
  );
}

/** The requester refuses the fill: the request opens again, the filler is told. */
export async function rejectFill(
  db: Kysely<Database>,
  o: { requestId: number; userId: number; now: number },
): Promise<Result<object, 'not_requester' | 'not_filled'>> {
  return abortable(() =>
    inTransaction(db, async (trx) => {
      const req = await trx.selectFrom('request').select(['user_id', 'filled_by', 'title']).where('id', '=', o.requestId).executeTakeFirst();
      if (!req || req.user_id !== o.userId) throw new Abort('not_requester' as const);
      const r = await trx
        .updateTable('request')
        .set({ status: 'open', filled_torrent_id: null, filled_by: null, filled_at: null })
        .where('id', '=', o.requestId)
        .where('status', '=', 'filled')
        .executeTakeFirst();
      if (touched(r) !== 1) throw new Abort('not_filled' as const);
      if (req.filled_by !== null) {
        await notify(trx, req.filled_by, 'request_rejected', { request: o.requestId, title: req.title, link: `/requests/${o.requestId}` }, o.now);
      }
      return { ok: true as const };
    }),
  );
}

/**
 * Closes an open or filled request (the requester, or staff with `request.moderate` passed as
 * `as: 'staff'`): every bounty goes back to its giver. Staff closures are audited.
 */
export async function closeRequest(
  db: Kysely<Database>,
  o: { requestId: number; actor: Actor; as: 'own' | 'staff'; reason?: string | null; now: number },
): Promise<Result<{ refunded: number }, 'not_requester' | 'not_closable'>> {
  return abortable(() =>
    inTransaction(db, async (trx) => {
      const req = await trx.selectFrom('request').select(['user_id', 'status', 'bounty', 'title']).where('id', '=', o.requestId).executeTakeFirst();
      if (!req) throw new Abort('not_closable' as const);
      if (o.as === 'own' && req.user_id !== o.actor.id) throw new Abort('not_requester' as const);
      const r = await trx
        .updateTable('request')
        .set({ status: 'closed' })
        .where('id', '=', o.requestId)
        .where('status', 'in', ['open', 'filled'])
        .executeTakeFirst();
      if (touched(r) !== 1) throw new Abort('not_closable' as const);
      const givers = await trx
        .selectFrom('request_bounty')
        .select((eb) => ['user_id', eb.fn.sum<number | string>('amount').as('total')])
        .where('request_id', '=', o.requestId)
        .where('user_id', 'is not', null)
        .groupBy('user_id')
        .execute();
      let refunded = 0;
      for (const g of givers) {
        const amount = num(g.total);
        refunded += amount;
        await trx
          .updateTable('user')
          .set((eb) => ({ uploaded: eb('uploaded', '+', amount), updated_at: o.now }))
          .where('id', '=', g.user_id!)
          .execute();
      }
      if (o.as === 'staff') {
        await audit(trx, {
          actorId: o.actor.id,
          actorName: o.actor.username,
          action: 'request.close',
          targetType: 'request',
          targetId: o.requestId,
          reason: o.reason ?? null,
          before: { status: req.status, bounty: num(req.bounty), requester_id: req.user_id, title: req.title },
          after: { status: 'closed', refunded },
          now: o.now,
        });
        if (req.user_id !== null && req.user_id !== o.actor.id) {
          await notify(trx, req.user_id, 'request_closed', { request: o.requestId, title: req.title, link: `/requests/${o.requestId}` }, o.now);
        }
      }
      return { ok: true as const, refunded };
    }),
  );
}
