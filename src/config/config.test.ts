import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  defaultConfig,
  describeConfig,
  formatConfigListing,
  httpAnnounceBaseUrl,
  loadConfig,
  loadConfigWithSources,
  renderConfigDocs,
  udpAnnounceBaseUrl,
  type Config,
} from './index.js';
import { DOCS_BEGIN, DOCS_END } from './describe.js';
import { schemaEntries, type LogLevel, type TrackerMode } from './schema.js';

function dir(files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'essaim-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config defaults', () => {
  it('match the documented values', () => {
    const c = loadConfig({ env: {}, cwd: dir() });
    assert.deepEqual(c, defaultConfig());
    assert.equal(c.server.data_dir, './data');
    assert.equal(c.web.port, 8080);
    assert.equal(c.database.url, '');
    assert.equal(c.tracker.mode, 'private');
    assert.equal(c.tracker.udp_host6, '::1');
    assert.equal(c.tracker.interval, 1800);
    assert.equal(c.tracker.interval_jitter, 0.1);
    assert.deepEqual(c.tracker.trusted_proxies, []);
    assert.equal(c.tracker.unregistered_reason_ttl, 86400);
    assert.equal(c.ledger.baseline_retention, 172800);
    assert.equal(c.metrics.port, 9100);
    assert.equal(c.log.level, 'info');
  });

  it('is deeply frozen', () => {
    const c = loadConfig({ env: {}, cwd: dir(), overrides: { tracker: { client_deny: ['-XX'] } } });
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.tracker));
    assert.ok(Object.isFrozen(c.tracker.client_deny));
    assert.throws(() => {
      (c.tracker as { mode: string }).mode = 'public';
    }, TypeError);
    assert.throws(() => (c.tracker.client_deny as string[]).push('-YY'), TypeError);
  });

  it('derives the Config type from the schema', () => {
    const c: Config = defaultConfig();
    // Compile-time checks: these assignments fail to type-check if the derivation is wrong.
    const mode: TrackerMode = c.tracker.mode;
    const level: LogLevel = c.log.level;
    const port: number = c.tracker.http_port;
    const pretty: boolean = c.log.pretty;
    const proxies: readonly string[] = c.tracker.trusted_proxies;
    const url: string = c.database.url;
    // @ts-expect-error unknown keys are not part of Config
    void c.tracker.nope;
    assert.deepEqual([mode, level, port, pretty, proxies, url], ['private', 'info', 6969, false, [], '']);
    // Every schema key is present, and nothing else.
    const keys = Object.entries(c).flatMap(([s, v]) => Object.keys(v as object).map((k) => `${s}.${k}`));
    assert.deepEqual(keys, schemaEntries().map((e) => e.path));
  });
});

describe('config layers', () => {
  it('reads ./essaim.toml, and the environment wins over it', () => {
    const cwd = dir({
      'essaim.toml': '[tracker]\nmode = "listed"\nhttp_port = 7000\ntrusted_proxies = ["10.0.0.1"]\n[log]\npretty = true\n',
    });
    const { config: c, file, sources } = loadConfigWithSources({ cwd, env: { ESSAIM_TRACKER__HTTP_PORT: '7001' } });
    assert.equal(file, join(cwd, 'essaim.toml'));
    assert.equal(c.tracker.mode, 'listed');
    assert.equal(c.tracker.http_port, 7001);
    assert.deepEqual(c.tracker.trusted_proxies, ['10.0.0.1']);
    assert.equal(c.log.pretty, true);
    assert.equal(sources.get('tracker.mode'), 'file essaim.toml');
    assert.equal(sources.get('tracker.http_port'), 'env ESSAIM_TRACKER__HTTP_PORT');
    assert.equal(sources.get('web.port'), 'default');
  });

  it('falls back to ./essaim.json, and prefers essaim.toml when both exist', () => {
    const json = dir({ 'essaim.json': JSON.stringify({ web: { port: 9000 }, tracker: { client_deny: ['-XX'] } }) });
    const c = loadConfig({ cwd: json, env: {} });
    assert.equal(c.web.port, 9000);
    assert.deepEqual(c.tracker.client_deny, ['-XX']);
    const both = dir({ 'essaim.toml': '[web]\nport = 1\n', 'essaim.json': '{"web":{"port":2}}' });
    assert.equal(loadConfig({ cwd: both, env: {} }).web.port, 1);
  });

  it('takes an explicit file (option, then ESSAIM_CONFIG) over the default names', () => {
    const cwd = dir({ 'essaim.toml': '[web]\nport = 1\n', 'other.toml': '[web]\nport = 2\n', 'x.json': '{"web":{"port":3}}' });
    assert.equal(loadConfig({ cwd, env: {}, file: 'other.toml' }).web.port, 2);
    assert.equal(loadConfig({ cwd, env: { ESSAIM_CONFIG: 'x.json' } }).web.port, 3);
    assert.equal(loadConfig({ cwd, env: { ESSAIM_CONFIG: 'x.json' }, file: join(cwd, 'other.toml') }).web.port, 2);
  });

  it('reports a missing explicit file', () => {
    const cwd = dir();
    assert.deepEqual(problemsOf(() => loadConfig({ cwd, env: {}, file: 'nope.toml' })), [
      'config file not found: nope.toml [--config]',
    ]);
    assert.deepEqual(problemsOf(() => loadConfig({ cwd, env: { ESSAIM_CONFIG: 'gone.json' } })), [
      'config file not found: gone.json [env ESSAIM_CONFIG]',
    ]);
  });

  it('parses every type from the environment', () => {
    const c = loadConfig({
      cwd: dir(),
      env: {
        ESSAIM_TRACKER__MODE: 'public',
        ESSAIM_TRACKER__HTTP_PORT: '7000',
        ESSAIM_TRACKER__INTERVAL_JITTER: '0.25',
        ESSAIM_TRACKER__FULL_SCRAPE: 'yes',
        ESSAIM_TRACKER__UDP_ENABLED: 'false',
        ESSAIM_TRACKER__TRUSTED_PROXIES: ' 10.0.0.1, ::1 ,,',
        ESSAIM_TRACKER__INTERVAL: '1h',
        ESSAIM_TRACKER__PEER_TIMEOUT: '5400',
        ESSAIM_TRACKER__UNREGISTERED_REASON_TTL: '2d',
        ESSAIM_SERVER__DATA_DIR: '/var/lib/essaim',
        ESSAIM_TEST_PG_URL: 'postgres://ignored', // test-harness and tooling variables are not config keys
        ESSAIM_BENCH_HARNESS: '/somewhere',
        HOME: '/root', // neither are other variables
      },
    });
    assert.equal(c.tracker.mode, 'public');
    assert.equal(c.tracker.http_port, 7000);
    assert.equal(c.tracker.interval_jitter, 0.25);
    assert.equal(c.tracker.full_scrape, true);
    assert.equal(c.tracker.udp_enabled, false);
    assert.deepEqual(c.tracker.trusted_proxies, ['10.0.0.1', '::1']);
    assert.equal(c.tracker.interval, 3600);
    assert.equal(c.tracker.unregistered_reason_ttl, 172800);
    assert.equal(c.server.data_dir, '/var/lib/essaim');
  });

  it('an empty list variable clears the list', () => {
    const cwd = dir({ 'essaim.toml': '[tracker]\nclient_deny = ["-XX"]\n' });
    assert.deepEqual(loadConfig({ cwd, env: { ESSAIM_TRACKER__CLIENT_DENY: '' } }).tracker.client_deny, []);
  });

  it('applies overrides last', () => {
    const c = loadConfig({
      cwd: dir(),
      env: { ESSAIM_WEB__PORT: '7000' },
      overrides: { web: { port: 0 }, database: { url: 'sqlite::memory:' } },
    });
    assert.equal(c.web.port, 0);
    assert.equal(c.database.url, 'sqlite::memory:');
  });

  it('does not look at NODE_ENV', () => {
    const a = loadConfig({ cwd: dir(), env: { NODE_ENV: 'production' } });
    const b = loadConfig({ cwd: dir(), env: { NODE_ENV: 'test' } });
    assert.deepEqual(a, b);
  });
});

describe('config errors', () => {
  it('lists every problem at once, each with its key and source', () => {
    const cwd = dir({
      'essaim.toml': [
        '[tracker]',
        'mode = "open"',
        'http_port = "6969"',
        'bogus = 1',
        'trusted_proxies = ["10.0.0.1", "not-an-ip"]',
        '[nope]',
        'x = 1',
      ].join('\n'),
    });
    const problems = problemsOf(() =>
      loadConfig({
        cwd,
        env: {
          ESSAIM_TRACKER__MODE: 'open',
          ESSAIM_TRACKER__UDP_PORT: '70000',
          ESSAIM_TRACKER__FULL_SCRAPE: 'maybe',
          ESSAIM_TRACKER__NOPE: '1',
          ESSAIM_TRACKER_HTTP_PORT: '1',
          ESSAIM_LOG_LEVELS: 'x',
          ESSAIM___X: 'y',
          ESSAIM_LOG__LEVEL: 'loud',
        },
      }),
    );
    assert.deepEqual(problems.sort(), [
      'ESSAIM_LOG_LEVELS: not a configuration variable; keys are ESSAIM_<SECTION>__<KEY> [env ESSAIM_LOG_LEVELS]',
      'ESSAIM_TRACKER_HTTP_PORT: not a configuration variable; keys are ESSAIM_<SECTION>__<KEY> (did you mean ESSAIM_TRACKER__HTTP_PORT?) [env ESSAIM_TRACKER_HTTP_PORT]',
      'ESSAIM___X: not a configuration variable; keys are ESSAIM_<SECTION>__<KEY> [env ESSAIM___X]',
      'log.level: must be one of fatal, error, warn, info, debug, trace, silent (got "loud") [env ESSAIM_LOG__LEVEL]',
      'nope: unknown section [file essaim.toml]',
      'tracker.bogus: unknown key [file essaim.toml]',
      'tracker.full_scrape: must be true or false (got "maybe") [env ESSAIM_TRACKER__FULL_SCRAPE]',
      'tracker.http_port: must be an integer (got "6969") [file essaim.toml]',
      'tracker.mode: must be one of public, listed, private (got "open") [env ESSAIM_TRACKER__MODE]',
      'tracker.mode: must be one of public, listed, private (got "open") [file essaim.toml]',
      'tracker.nope: unknown key [env ESSAIM_TRACKER__NOPE]',
      'tracker.trusted_proxies: "not-an-ip" is not an IP address [file essaim.toml]',
      'tracker.udp_port: must be at most 65535 (got "70000") [env ESSAIM_TRACKER__UDP_PORT]',
    ]);
  });

  it('suggests near misses', () => {
    const problems = problemsOf(() => loadConfig({ cwd: dir(), env: {}, overrides: { tracker: { http_prot: 1 } } as never }));
    assert.deepEqual(problems, ['tracker.http_prot: unknown key (did you mean tracker.http_port?) [override]']);
  });

  it('reports a file that does not parse', () => {
    const cwd = dir({ 'essaim.toml': '[tracker\nmode = 1', 'bad.json': '{"web": ' });
    const [toml] = problemsOf(() => loadConfig({ cwd, env: {} }));
    assert.match(toml!, /^not valid TOML: .* \[file essaim\.toml\]$/);
    const [json] = problemsOf(() => loadConfig({ cwd, env: {}, file: 'bad.json' }));
    assert.match(json!, /^not valid JSON: .* \[file bad\.json\]$/);
    const arr = dir({ 'essaim.json': '[1]' });
    assert.deepEqual(problemsOf(() => loadConfig({ cwd: arr, env: {} })), [
      'the top level must be a table of sections (got [1]) [file essaim.json]',
    ]);
    const sec = dir({ 'essaim.json': '{"tracker": 3}' });
    assert.deepEqual(problemsOf(() => loadConfig({ cwd: sec, env: {} })), ['tracker: must be a table of keys (got 3) [file essaim.json]']);
  });

  it('checks ranges and types from files', () => {
    const cwd = dir({
      'essaim.toml': [
        '[tracker]',
        'interval_jitter = 0.9',
        'unregistered_reason_ttl = 3600',
        'numwant_max = 1.5',
        'client_allow = "-TR"',
        'full_scrape = "true"',
        '[web]',
        'host = 127',
      ].join('\n'),
    });
    assert.deepEqual(problemsOf(() => loadConfig({ cwd, env: {} })).sort(), [
      'tracker.client_allow: must be a list of strings (got "-TR") [file essaim.toml]',
      'tracker.full_scrape: must be true or false (got "true") [file essaim.toml]',
      'tracker.interval_jitter: must be at most 0.5 (got 0.9) [file essaim.toml]',
      'tracker.numwant_max: must be an integer (got 1.5) [file essaim.toml]',
      'tracker.unregistered_reason_ttl: must be at least 86400 (got 3600) [file essaim.toml]',
      'web.host: must be a string (got a number: 127) [file essaim.toml]',
    ]);
  });

  it('accepts durations with units in files', () => {
    const cwd = dir({ 'essaim.toml': '[tracker]\ninterval = "40m"\nmin_interval = 60\n[ledger]\nflush_interval = "10s"\n' });
    const c = loadConfig({ cwd, env: {} });
    assert.equal(c.tracker.interval, 2400);
    assert.equal(c.tracker.min_interval, 60);
    assert.equal(c.ledger.flush_interval, 10);
    assert.match(problemsOf(() => loadConfig({ cwd, env: { ESSAIM_LEDGER__FLUSH_INTERVAL: '5 minutes' } }))[0]!, /^ledger\.flush_interval: must be a whole number of seconds/);
  });

  it('checks rules across keys', () => {
    const problems = problemsOf(() =>
      loadConfig({
        cwd: dir(),
        env: {
          ESSAIM_TRACKER__MIN_INTERVAL: '600',
          ESSAIM_TRACKER__INTERVAL: '300',
          ESSAIM_TRACKER__NUMWANT_DEFAULT: '500',
          ESSAIM_TRACKER__UDP_HOST: '',
          ESSAIM_TRACKER__UDP_HOST6: '',
        },
      }),
    );
    assert.deepEqual(problems, [
      'tracker.min_interval: must be at most tracker.interval (600 > 300) [env ESSAIM_TRACKER__MIN_INTERVAL; tracker.interval: env ESSAIM_TRACKER__INTERVAL]',
      'tracker.numwant_default: must be at most tracker.numwant_max (500 > 200) [env ESSAIM_TRACKER__NUMWANT_DEFAULT; tracker.numwant_max: default]',
      'tracker.udp_host: tracker.udp_enabled needs tracker.udp_host or tracker.udp_host6 (set tracker.udp_enabled = false to disable UDP) [env ESSAIM_TRACKER__UDP_HOST; tracker.udp_host6: env ESSAIM_TRACKER__UDP_HOST6]',
    ]);
    const timeout = problemsOf(() => loadConfig({ cwd: dir(), env: { ESSAIM_TRACKER__PEER_TIMEOUT: '1800' } }));
    assert.match(timeout[0]!, /^tracker\.peer_timeout: must be greater than tracker\.interval/);
    // Both UDP hosts empty is fine when UDP is off.
    loadConfig({ cwd: dir(), env: { ESSAIM_TRACKER__UDP_ENABLED: '0', ESSAIM_TRACKER__UDP_HOST: '', ESSAIM_TRACKER__UDP_HOST6: '' } });
  });

  it('checks URLs and addresses', () => {
    const problems = problemsOf(() =>
      loadConfig({
        cwd: dir(),
        env: {},
        overrides: {
          server: { public_url: 'example.org' },
          database: { url: 'mysql://x' },
          tracker: { udp_host: '::1', udp_host6: '127.0.0.1', announce_base_url: 'udp://x:1', udp_announce_base_url: 'http://x', client_deny: [''] },
        },
      }),
    );
    assert.deepEqual(problems, [
      'server.public_url: must be an http:// or https:// URL (got "example.org") [override]',
      'database.url: must be empty, sqlite:<path>, sqlite::memory: or postgres://... (got "mysql://x") [override]',
      'tracker.udp_host: must be an IPv4 address or "" (got "::1") [override]',
      'tracker.udp_host6: must be an IPv6 address or "" (got "127.0.0.1") [override]',
      'tracker.announce_base_url: must be "" or an http:// or https:// URL (got "udp://x:1") [override]',
      'tracker.udp_announce_base_url: must be "" or a udp:// URL (got "http://x") [override]',
      'tracker.client_deny: "" is not a peer_id prefix (1 to 20 characters) [override]',
    ]);
    for (const url of ['', 'sqlite::memory:', 'sqlite:./x.sqlite', 'postgres://u@h/db', 'postgresql://h/db']) {
      loadConfig({ cwd: dir(), env: {}, overrides: { database: { url } } });
    }
  });

  it('has a readable message', () => {
    const err = (() => {
      try {
        loadConfig({ cwd: dir(), env: { ESSAIM_WEB__PORT: 'x' } });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    })();
    assert.equal(err.name, 'ConfigError');
    assert.equal(err.message, 'invalid configuration (1 problem):\n  - web.port: must be an integer (got "x") [env ESSAIM_WEB__PORT]');
  });
});

describe('derived URLs', () => {
  it('default to the listening addresses', () => {
    const c = defaultConfig();
    assert.equal(httpAnnounceBaseUrl(c), 'http://127.0.0.1:6969');
    assert.equal(udpAnnounceBaseUrl(c), 'udp://127.0.0.1:6969');
    const v6 = loadConfig({ cwd: dir(), env: {}, overrides: { tracker: { http_host: '::', udp_host: '' } } });
    assert.equal(httpAnnounceBaseUrl(v6), 'http://[::]:6969');
    assert.equal(udpAnnounceBaseUrl(v6), 'udp://[::1]:6969');
    const set = loadConfig({
      cwd: dir(),
      env: { ESSAIM_TRACKER__ANNOUNCE_BASE_URL: 'https://t.example', ESSAIM_TRACKER__UDP_ANNOUNCE_BASE_URL: 'udp://t.example:6969' },
    });
    assert.equal(httpAnnounceBaseUrl(set), 'https://t.example');
    assert.equal(udpAnnounceBaseUrl(set), 'udp://t.example:6969');
  });
});

describe('describeConfig and docs', () => {
  it('describes every key with type, default and doc', () => {
    const d = describeConfig();
    assert.equal(d.length, schemaEntries().length);
    const mode = d.find((x) => x.key === 'tracker.mode')!;
    assert.deepEqual(mode, {
      key: 'tracker.mode',
      env: 'ESSAIM_TRACKER__MODE',
      type: 'public | listed | private',
      default: 'private',
      doc: mode.doc,
    });
    for (const x of d) assert.ok(x.doc.length > 10, `${x.key} has a doc`);
    const port = d.find((x) => x.key === 'tracker.http_port')!;
    assert.equal(port.type, 'integer (0–65535)');
    const withValues = describeConfig(loadConfig({ cwd: dir(), env: { ESSAIM_WEB__PORT: '1234' } }));
    assert.equal(withValues.find((x) => x.key === 'web.port')!.value, 1234);
  });

  it('prints a listing with values, defaults and sources', () => {
    const { config, sources } = loadConfigWithSources({ cwd: dir(), env: { ESSAIM_WEB__PORT: '1234' } });
    const text = formatConfigListing(config, sources);
    assert.match(text, /^\[server\]\ndata_dir = "\.\/data" {2}# string; default "\.\/data"\n/);
    assert.match(text, /\nport = 1234 {2}# integer \(0–65535\); default 8080; from env ESSAIM_WEB__PORT\n/);
    assert.match(text, /\ntrusted_proxies = \[\] {2}# list of strings; default \[\]\n/);
  });

  it('never prints a password given inside a URL', () => {
    const env = {
      ESSAIM_DATABASE__URL: 'postgres://essaim:db-secret-1@db.example:5432/essaim',
      ESSAIM_REDIS__URL: 'redis://:redis-secret-2@cache.example:6379/0',
      ESSAIM_MAIL__SMTP_URL: 'smtp://mailer:smtp-secret-3@mail.example:587',
    };
    const { config, sources } = loadConfigWithSources({ cwd: dir(), env });
    const text = formatConfigListing(config, sources);
    for (const secret of ['db-secret-1', 'redis-secret-2', 'smtp-secret-3']) assert.ok(!text.includes(secret), `${secret} is not printed`);
    assert.match(text, /\nurl = "postgres:\/\/essaim:<redacted>@db\.example:5432\/essaim"/);
    assert.match(text, /\nurl = "redis:\/\/:<redacted>@cache\.example:6379\/0"/);
    assert.match(text, /\nsmtp_url = "smtp:\/\/mailer:<redacted>@mail\.example:587"/);
  });

  it('docs/configuration.md is up to date with the schema', () => {
    const path = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
    const md = readFileSync(path, 'utf8');
    const begin = md.indexOf(DOCS_BEGIN);
    const end = md.indexOf(DOCS_END);
    assert.ok(begin >= 0 && end > begin, 'docs/configuration.md has the generated-table markers');
    const table = md.slice(begin + DOCS_BEGIN.length, end).trim();
    assert.equal(
      table,
      renderConfigDocs().trim(),
      'docs/configuration.md is out of date: run `node --import tsx src/config/write-docs.ts`',
    );
    for (const e of schemaEntries()) assert.ok(table.includes(`\`${e.path}\``), `${e.path} is documented`);
  });
});
