/**
 * Seeds a fresh Essaim database for the tracker benchmark: N members (passkeys written to a
 * file, one per line, for the harness's {passkey} template) and every info hash of the pool
 * registered as a torrent.
 *
 *   node --import tsx bench/seed.ts --data-dir DIR --infohashes POOL --users N --passkeys OUT [--database-url URL]
 *
 * With --database-url (PostgreSQL), the database is that one instead of SQLite in DIR.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createUser } from '../src/db/user.repository.js';
import { registerTorrent } from '../src/db/torrent.repository.js';

function arg(name: string): string {
  const i = process.argv.indexOf(name);
  const v = i === -1 ? undefined : process.argv[i + 1];
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
}

const dataDir = arg('--data-dir');
const hashes = readFileSync(arg('--infohashes'), 'utf8').split('\n').map((l) => l.trim().toLowerCase()).filter((l) => /^[0-9a-f]{40}$/.test(l));
const users = Number(arg('--users'));
const urlAt = process.argv.indexOf('--database-url');
const databaseUrl = urlAt === -1 ? '' : (process.argv[urlAt + 1] ?? '');
const { db, close } = await openDatabase(databaseUrl, { dataDir, poolSize: 1 });
await migrateToLatest(db);
const now = Math.floor(Date.now() / 1000);
const passkeys: string[] = [];
for (let i = 0; i < users; i++) passkeys.push((await createUser(db, { username: `bench${i}`, now })).passkey);
writeFileSync(arg('--passkeys'), passkeys.join('\n') + '\n');
let n = 0;
for (const h of hashes) {
  await registerTorrent(db, { name: `bench ${h}`, infoHashV1: h, now });
  if (++n % 20000 === 0) process.stderr.write(`registered ${n} torrents\n`);
}
await close();
process.stderr.write(`seeded ${users} members and ${hashes.length} torrents in ${dataDir}\n`);
