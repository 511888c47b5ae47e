/**
 * Member classes: a ladder (member_class rows, by position) with promotion thresholds on credited
 * upload, ratio and account age. A member holds the highest class whose every threshold they
 * meet; a periodic job recomputes classes (promotions and demotions), notifies the members whose
 * class changed, and never touches roles: staff and uploader roles are separate from classes, and
 * staff members (moderator and above) keep their class as it is.
 *
 * Seeded on first run (installDefaultClasses): new member, member, power member, elite. A member
 * who downloaded nothing has an unbounded ratio (their upload threshold still applies).
 */
import type { Kysely, Selectable } from 'kysely';
import type { Database, Locale, MemberClassTable } from '../../db/schema.js';
import { notify } from '../notifications.js';

export type MemberClass = Selectable<MemberClassTable>;

const GiB = 1024 ** 3;

export const DEFAULT_CLASSES: ReadonlyArray<Omit<MemberClass, 'hnr_immune'> & { hnr_immune: 0 | 1 }> = [
  { id: 'new', name_en: 'New member', name_fr: 'Nouveau membre', position: 0, min_uploaded: 0, min_ratio: 0, min_age_days: 0, invites_per_month: 0, hnr_immune: 0 },
  { id: 'member', name_en: 'Member', name_fr: 'Membre', position: 1, min_uploaded: 0, min_ratio: 0, min_age_days: 7, invites_per_month: 0, hnr_immune: 0 },
  { id: 'power', name_en: 'Power member', name_fr: 'Membre confirmé', position: 2, min_uploaded: 25 * GiB, min_ratio: 1.05, min_age_days: 28, invites_per_month: 1, hnr_immune: 0 },
  { id: 'elite', name_en: 'Elite', name_fr: 'Élite', position: 3, min_uploaded: 500 * GiB, min_ratio: 2, min_age_days: 182, invites_per_month: 3, hnr_immune: 1 },
];

/** Writes the default ladder when member_class is empty (first run). */
export async function installDefaultClasses(db: Kysely<Database>): Promise<boolean> {
  const any = await db.selectFrom('member_class').select('id').limit(1).executeTakeFirst();
  if (any) return false;
  await db.insertInto('member_class').values(DEFAULT_CLASSES.map((c) => ({ ...c }))).execute();
  return true;
}

/** The ladder, lowest first. */
export async function listClasses(db: Kysely<Database>): Promise<MemberClass[]> {
  return db.selectFrom('member_class').selectAll().orderBy('position').execute();
}

/** The class new accounts start in: the lowest of the ladder ('new' by default). */
export async function entryClass(db: Kysely<Database>): Promise<MemberClass | undefined> {
  return db.selectFrom('member_class').selectAll().orderBy('position').limit(1).executeTakeFirst();
}

export function className(c: Pick<MemberClass, 'name_en' | 'name_fr'>, locale: Locale): string {
  return locale === 'fr' ? c.name_fr : c.name_en;
}

/** A class's display name by id (the id itself when the class is unknown). */
export async function classDisplayName(db: Kysely<Database>, id: string, locale: Locale): Promise<string> {
  const c = await db.selectFrom('member_class').select(['name_en', 'name_fr']).where('id', '=', id).executeTakeFirst();
  return c ? className(c, locale) : id;
}

export interface Standing {
  uploaded: number;
  downloaded: number;
  /** Epoch seconds. */
  created_at: number;
}

export function meets(c: Pick<MemberClass, 'min_uploaded' | 'min_ratio' | 'min_age_days'>, s: Standing, now: number): boolean {
  const ratio = s.downloaded > 0 ? s.uploaded / s.downloaded : Infinity;
  return s.uploaded >= c.min_uploaded && ratio >= c.min_ratio && now - s.created_at >= c.min_age_days * 86400;
}

/** The highest class of the ladder (lowest first) whose thresholds all hold; the lowest one else. */
export function classFor(ladder: readonly MemberClass[], s: Standing, now: number): MemberClass | undefined {
  let best = ladder[0];
  for (const c of ladder) if (meets(c, s, now)) best = c;
  return best;
}

export interface ClassChange {
  userId: number;
  from: string;
  to: string;
  promoted: boolean;
}

/** Roles whose class the job leaves alone. */
const STAFF_ROLES = ['moderator', 'supermod', 'admin'] as const;

/**
 * Recomputes every member's class (enabled, not deleted, not staff), in pages by id; each change
 * is written, and the member notified (`joining.class_promoted` / `joining.class_demoted`, with
 * the class names in the member's language as `from` and `to`).
 */
export async function runClassLadder(db: Kysely<Database>, now: number, o: { defaultLocale?: Locale; pageSize?: number } = {}): Promise<ClassChange[]> {
  const pageSize = o.pageSize ?? 1000;
  const defaultLocale = o.defaultLocale ?? 'en';
  const ladder = await listClasses(db);
  if (ladder.length === 0) return [];
  const byId = new Map(ladder.map((c) => [c.id, c]));
  const changes: ClassChange[] = [];
  let after = 0;
  for (;;) {
    const rows = await db
      .selectFrom('user')
      .select(['id', 'class', 'uploaded', 'downloaded', 'created_at', 'locale'])
      .where('id', '>', after)
      .where('enabled', '=', 1)
      .where('deleted_at', 'is', null)
      .where('role', 'not in', STAFF_ROLES)
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      after = r.id;
      const target = classFor(ladder, r, now);
      if (!target || target.id === r.class) continue;
      const current = byId.get(r.class);
      const promoted = !current || target.position > current.position;
      const u = await db.updateTable('user').set({ class: target.id, updated_at: now }).where('id', '=', r.id).where('class', '=', r.class).executeTakeFirst();
      if (Number(u.numUpdatedRows) !== 1) continue;
      // Names in the member's language (the notification is rendered later from these values).
      const locale: Locale = r.locale ?? defaultLocale;
      await notify(
        db,
        r.id,
        promoted ? 'joining.class_promoted' : 'joining.class_demoted',
        { from_class: r.class, to_class: target.id, from: current ? className(current, locale) : r.class, to: className(target, locale) },
        now,
      );
      changes.push({ userId: r.id, from: r.class, to: target.id, promoted });
    }
    if (rows.length < pageSize) break;
  }
  return changes;
}
