/** Site settings: a small key/value table shared by every node (secrets, first-run state). */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export async function getSetting(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const r = await db.selectFrom('site_setting').select('value').where('key', '=', key).executeTakeFirst();
  return r?.value;
}

export async function setSetting(db: Kysely<Database>, key: string, value: string, now: number): Promise<void> {
  await db
    .insertInto('site_setting')
    .values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
    .execute();
}

/** The site secret (32 random bytes), created on first use; the first writer wins on a race. */
export async function siteSecret(db: Kysely<Database>, now: number): Promise<Buffer> {
  const existing = await getSetting(db, 'secret');
  if (existing) return Buffer.from(existing, 'base64');
  await db
    .insertInto('site_setting')
    .values({ key: 'secret', value: randomBytes(32).toString('base64'), updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return Buffer.from((await getSetting(db, 'secret'))!, 'base64');
}
