/** The default taxonomy (categories, term types, terms), installed on first run. (To be filled in.) */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** Installs the default taxonomy when the category table is empty; true when it did. */
export async function installDefaultTaxonomy(_db: Kysely<Database>): Promise<boolean> {
  return false;
}
