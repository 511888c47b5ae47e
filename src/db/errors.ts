/**
 * Typed errors of the repositories, and recognising constraint violations on either dialect.
 */

/** The info hash is already registered (by the torrent `torrentId`, whatever its status). */
export class DuplicateInfoHashError extends Error {
  override readonly name = 'DuplicateInfoHashError';
  constructor(
    /** The 40-hex swarm hash that collided. */
    readonly infoHash: string,
    readonly torrentId: number,
  ) {
    super(`info hash ${infoHash} is already registered (torrent ${torrentId})`);
  }
}

/** A username (compared without regard to case) or email is already taken. */
export class DuplicateUserError extends Error {
  override readonly name = 'DuplicateUserError';
  constructor(
    readonly field: 'username' | 'email',
    readonly value: string,
  ) {
    super(`${field} ${JSON.stringify(value)} is already taken`);
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    readonly entity: string,
    readonly id: number | string,
  ) {
    super(`no ${entity} ${id}`);
  }
}

/** A UNIQUE or PRIMARY KEY violation: SQLite (better-sqlite3) or PostgreSQL (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
