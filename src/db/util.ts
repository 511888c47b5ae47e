/**
 * Small helpers shared by the repositories: transactions that nest, parameter-bounded chunks,
 * and portable VALUES lists.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';

/**
 * Most bound parameters in one statement, under both SQLite's (32766) and PostgreSQL's (65535)
 * limits.
 */
export const MAX_PARAMS = 30_000;

/** Runs fn in a transaction, or directly in the caller's one when `db` already is a transaction. */
export function inTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** Splits rows so that each part binds at most MAX_PARAMS parameters. */
export function chunksFor<T>(rows: readonly T[], paramsPerRow: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / paramsPerRow));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export type SqlType = 'integer' | 'bigint' | 'text';

/**
 * `(cast(? as t1), cast(? as t2)), (...)`: the rows of a VALUES list. The casts give PostgreSQL
 * the column types (an untyped parameter would be text); SQLite accepts them too. Both dialects
 * name the columns of a VALUES list column1, column2, ...
 */
export function valuesRows(rows: ReadonlyArray<readonly unknown[]>, types: readonly SqlType[]): RawBuilder<unknown> {
  return sql.join(
    rows.map((r) => sql`(${sql.join(r.map((v, i) => sql`cast(${v} as ${sql.raw(types[i]!)})`))})`),
  );
}

/** An integer for a bigint column: rejects NaN and infinities, rounds fractions. */
export function toInt(v: number, what: string): number {
  if (!Number.isFinite(v)) throw new TypeError(`${what} must be a finite number (got ${v})`);
  return Number.isInteger(v) ? v : Math.round(v);
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
