/**
 * `essaim backup`: an online copy of a running site's SQLite database that restores. A site runs
 * (members, a torrent, the ledger's writer thread attached); the backup is taken while it runs;
 * then a second site started on the copy sees the same data.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { ESSAIM_BIN } from '../../test/helpers/essaim.js';
import { startSite } from '../../test/helpers/site.js';
import { backupSqlite, BackupError, sqliteFileOf } from './backup.js';

describe('SQLite backup', () => {
  it('copies a running site and the copy restores', async (t) => {
    const s = await startSite(t);
    await s.member('alice');
    await s.member('bob');
    const dir = mkdtempSync(join(tmpdir(), 'essaim-backup-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const dest = join(dir, 'copy.sqlite');
    const r = await backupSqlite(join(s.dataDir, 'essaim.sqlite'), dest);
    assert.equal(r.path, dest);
    assert.ok(r.bytes > 0 && r.pages > 0, 'pages copied');
    assert.ok(r.migrations >= 5, `migrations recorded: ${r.migrations}`);
    // The site goes on while and after the copy is made.
    await s.member('carol');
    await assert.rejects(backupSqlite(join(s.dataDir, 'essaim.sqlite'), dest), BackupError, 'refuses to overwrite');
    // Restore: a new site on the copy has the members of the moment of the backup.
    const restoredDir = mkdtempSync(join(tmpdir(), 'essaim-restored-'));
    t.after(() => rmSync(restoredDir, { recursive: true, force: true }));
    const r2 = await startSite(null, { server: { data_dir: restoredDir }, database: { url: `sqlite:${dest}` } });
    try {
      const names = (await r2.app.db().selectFrom('user').select('username').orderBy('username').execute()).map((u) => u.username);
      assert.deepEqual(names, ['alice', 'bob']);
    } finally {
      await r2.stop();
    }
  });

  it('is the essaim backup command', async (t) => {
    const s = await startSite(t);
    await s.member('dave');
    const dest = join(s.dataDir, 'cli-copy.sqlite');
    const env = { ...process.env, ESSAIM_SERVER__DATA_DIR: s.dataDir };
    const r = spawnSync(process.execPath, [ESSAIM_BIN, 'backup', dest, '--json'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; path: string; migrations: number };
    assert.equal(out.ok, true);
    assert.equal(out.path, dest);
    assert.ok(existsSync(dest), 'file written');
    const again = spawnSync(process.execPath, [ESSAIM_BIN, 'backup', dest], { env, encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /exists already/);
    const none = spawnSync(process.execPath, [ESSAIM_BIN, 'backup'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(none.status, 64);
    assert.match(none.stderr, /destination file is required/);
  });

  it('names the problem for a missing source, PostgreSQL and memory databases, and a corrupt file', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'essaim-backup-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await assert.rejects(backupSqlite(join(dir, 'none.sqlite'), join(dir, 'x')), /no database at/);
    assert.throws(() => sqliteFileOf('postgres://u@h/db', dir), /pg_dump/);
    assert.throws(() => sqliteFileOf('sqlite::memory:', dir), /in-memory/);
    assert.equal(sqliteFileOf('', dir), join(dir, 'essaim.sqlite'));
    writeFileSync(join(dir, 'junk.sqlite'), Buffer.alloc(4096, 7));
    await assert.rejects(backupSqlite(join(dir, 'junk.sqlite'), join(dir, 'out.sqlite')), 'a corrupt file is refused');
    assert.equal(existsSync(join(dir, 'out.sqlite')), false, 'no partial copy left');
    assert.equal(existsSync(join(dir, 'out.sqlite.partial')), false, 'no temporary file left');
  });
});
