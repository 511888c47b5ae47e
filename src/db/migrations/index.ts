/**
 * Every migration, in order. A static list (no directory scanning), so that the same code runs
 * from the TypeScript sources (tsx) and from the compiled dist/. Add new migrations at the end;
 * never rename, edit or remove a released one.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_site.js';
import * as m0003 from './0003_completed_index.js';
import * as m0004 from './0004_community.js';
import * as m0005 from './0005_api.js';

export const migrations: Readonly<Record<string, Migration>> = {
  '0001_initial': m0001,
  '0002_site': m0002,
  '0003_completed_index': m0003,
  '0004_community': m0004,
  '0005_api': m0005,
};
