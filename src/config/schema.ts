/**
 * The configuration schema: every key Essaim reads, with its type, default and a one-line doc.
 * This table is the single source of truth: the `Config` type, the loader's validation, the
 * `essaim config print` listing and the table in docs/configuration.md are all derived from it.
 *
 * Keys are `section.key`, snake_case, exactly as written in essaim.toml. Durations are integer
 * seconds.
 */

interface FieldBase<T> {
  default: T;
  /** One line, with units. */
  doc: string;
}
export interface StringField extends FieldBase<string> {
  type: 'string';
}
export interface IntField extends FieldBase<number> {
  type: 'int';
  min?: number;
  max?: number;
}
export interface NumberField extends FieldBase<number> {
  type: 'number';
  min?: number;
  max?: number;
}
export interface BoolField extends FieldBase<boolean> {
  type: 'bool';
}
export interface EnumField<V extends string = string> extends FieldBase<V> {
  type: 'enum';
  values: readonly V[];
}
export interface ListField extends FieldBase<readonly string[]> {
  type: 'list';
}
/** Integer seconds. In a file or the environment, also "90s", "30m", "12h" or "2d". */
export interface DurationField extends FieldBase<number> {
  type: 'duration';
  min?: number;
  max?: number;
}

export type Field = StringField | IntField | NumberField | BoolField | EnumField | ListField | DurationField;
export type FieldType = Field['type'];

type Bounds = { min?: number; max?: number };

const str = (def: string, doc: string): StringField => ({ type: 'string', default: def, doc });
const int = (def: number, bounds: Bounds, doc: string): IntField => ({ type: 'int', default: def, ...bounds, doc });
const num = (def: number, bounds: Bounds, doc: string): NumberField => ({
  type: 'number',
  default: def,
  ...bounds,
  doc,
});
const bool = (def: boolean, doc: string): BoolField => ({ type: 'bool', default: def, doc });
const oneOf = <const V extends string>(values: readonly V[], def: NoInfer<V>, doc: string): EnumField<V> => ({
  type: 'enum',
  values,
  default: def,
  doc,
});
const list = (def: readonly string[], doc: string): ListField => ({ type: 'list', default: def, doc });
const seconds = (def: number, bounds: Bounds, doc: string): DurationField => ({
  type: 'duration',
  default: def,
  ...bounds,
  doc,
});

const PORT = { min: 0, max: 65535 };

export const TRACKER_MODES = ['public', 'listed', 'private'] as const;
export type TrackerMode = (typeof TRACKER_MODES)[number];
export const PEER_STORES = ['memory', 'redis'] as const;
export type PeerStoreKind = (typeof PEER_STORES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const configSchema = {
  server: {
    data_dir: str('./data', 'Directory for the SQLite file, the outbox and other state (relative to the working directory).'),
    public_url: str('http://127.0.0.1:8080', "The site's public base URL, used in links, mails and .torrent comments (left at this default, it follows the web listener's actual address)."),
  },
  web: {
    host: str('127.0.0.1', 'Address the web site listens on.'),
    port: int(8080, PORT, 'TCP port of the web site (0 = any free port).'),
    trust_proxy: list([], 'Reverse proxies (IPs or CIDRs) whose X-Forwarded-For / X-Forwarded-Proto the site believes.'),
    session_ttl: seconds(43200, { min: 300 }, 'How long a login without "remember me" lasts without activity.'),
    remember_ttl: seconds(2592000, { min: 3600 }, 'How long a "remember me" login lasts.'),
    login_attempts: int(10, { min: 1, max: 1000 }, 'Failed logins allowed per IP address and per account within `login_window`.'),
    login_window: seconds(900, { min: 60 }, 'The window of `login_attempts`.'),
    external_images: bool(false, 'Show images from other sites in descriptions (off: they become links, so readers\' IPs do not leak).'),
    page_size: int(50, { min: 10, max: 200 }, 'Torrents per page in listings.'),
  },
  site: {
    name: str('Essaim', "The site's name, in page titles, mails, feeds and the OpenSearch description."),
    default_locale: oneOf(['en', 'fr'] as const, 'en', 'Language for visitors whose browser asks for neither English nor French.'),
    source_tag: str('', "The `source` written into every uploaded torrent's info dictionary (empty: the public URL's host name)."),
    max_torrent_bytes: int(10485760, { min: 1024 }, 'Largest .torrent file accepted at upload, in bytes.'),
    max_nfo_bytes: int(65536, { min: 1024 }, 'Largest NFO file accepted at upload, in bytes.'),
    swarm_sync_interval: seconds(30, { min: 1 }, "How often the tracker's live seeder/leecher counts are copied to the database for sorting."),
  },
  mail: {
    smtp_url: str('', 'SMTP server, e.g. `smtp://user:pass@host:587`; empty: mails are written to `<data_dir>/outbox/` and their links logged.'),
    from: str('Essaim <noreply@localhost>', 'Sender address of outgoing mail.'),
    reset_ttl: seconds(3600, { min: 300 }, 'How long a password-reset link stays valid.'),
  },
  database: {
    url: str(
      '',
      'Empty: SQLite at `<data_dir>/essaim.sqlite`; `sqlite:<path>` or `sqlite::memory:`; `postgres://...` for PostgreSQL.',
    ),
    pool_size: int(10, { min: 1, max: 1000 }, 'Connections in the PostgreSQL pool.'),
  },
  tracker: {
    mode: oneOf(
      TRACKER_MODES,
      'private',
      'public: any info hash; listed: only registered torrents; private: registered torrents and members only (passkey).',
    ),
    http_enabled: bool(true, 'Serve announces and scrapes over HTTP (BEP 3).'),
    http_host: str('127.0.0.1', 'Address of the HTTP tracker.'),
    http_port: int(6969, PORT, 'TCP port of the HTTP tracker (0 = any free port).'),
    udp_enabled: bool(true, 'Serve announces and scrapes over UDP (BEP 15).'),
    udp_host: str('127.0.0.1', 'IPv4 address of the UDP tracker ("" = no IPv4 socket).'),
    udp_host6: str('::1', 'IPv6 address of the UDP tracker ("" = no IPv6 socket).'),
    udp_port: int(6969, PORT, 'UDP port of the tracker, both sockets (0 = any free port).'),
    announce_base_url: str(
      '',
      'Public HTTP base URL of the tracker written in .torrent files ("" = `http://<http_host>:<http_port>`).',
    ),
    udp_announce_base_url: str('', 'Public UDP base URL of the tracker ("" = `udp://<udp_host>:<udp_port>`).'),
    interval: seconds(1800, { min: 1 }, 'Announce interval given to clients, in seconds.'),
    interval_jitter: num(0.1, { min: 0, max: 0.5 }, 'Random spread of the interval, as a fraction of it (0 to 0.5).'),
    min_interval: seconds(300, { min: 0 }, 'Minimum announce interval given to clients, in seconds.'),
    numwant_default: int(50, { min: 0 }, 'Peers returned when the client does not say how many.'),
    numwant_max: int(200, { min: 0 }, 'Most peers returned in one announce response.'),
    scrape_max_hashes: int(64, { min: 1 }, 'Most info hashes in one scrape request.'),
    full_scrape: bool(false, 'Answer a scrape without info_hash with every torrent.'),
    peer_timeout: seconds(2700, { min: 1 }, 'A peer that has not announced for this long is dropped, in seconds.'),
    sweep_interval: seconds(60, { min: 1 }, 'How often expired peers are swept, in seconds.'),
    max_peers_per_user: int(3, { min: 1 }, 'Most peers one member may have in one torrent (private mode).'),
    allow_client_ip: bool(false, 'Honour the `ip` parameter clients send.'),
    trusted_proxies: list(
      [],
      'IP addresses of reverse proxies whose X-Forwarded-For is honoured (rightmost hop); comma-separated in env.',
    ),
    udp_connection_ttl: seconds(300, { min: 1 }, 'Lifetime of a UDP connection id, in seconds.'),
    udp_max_response_bytes: int(1200, { min: 100, max: 65507 }, 'Largest UDP response datagram, in bytes.'),
    udp_io: oneOf(
      ['auto', 'batched', 'dgram'],
      'auto',
      'UDP datagram I/O: batched = native recvmmsg/sendmmsg (the optional addon in native/udp-batch, Linux); dgram = node:dgram; auto = batched when the addon loads.',
    ),
    access_refresh_interval: seconds(
      60,
      { min: 1 },
      'How often members, torrents and client rules are reloaded from the database, in seconds.',
    ),
    unregistered_reason_ttl: seconds(
      86400,
      { min: 86400 },
      'How long a deleted torrent keeps answering with its deletion reason, in seconds (at least 86400).',
    ),
    client_allow: list([], 'peer_id prefixes (e.g. -TR3); when non-empty, only these clients are accepted.'),
    client_deny: list([], 'peer_id prefixes refused (database rules add to these, editable without restart).'),
    http_keepalive_timeout: seconds(15, { min: 0 }, 'Idle keep-alive timeout of HTTP tracker connections, in seconds (0: none).'),
    http_max_connections: int(10000, { min: 1, max: 1048575 }, 'Most simultaneous HTTP tracker connections.'),
    http_io: oneOf(
      ['auto', 'native', 'net'],
      'auto',
      'HTTP tracker sockets: native = polled in batches by the optional addon (native/udp-batch, Linux); net = node:net streams; auto = native when the addon loads.',
    ),
    store: oneOf(
      PEER_STORES,
      'memory',
      'Where swarms live: memory (one tracker process) or redis (shared by every tracker node; needs `redis.url`).',
    ),
  },
  redis: {
    url: str('', 'Redis server, e.g. `redis://127.0.0.1:6379/0` (empty: no Redis). Used by `tracker.store = "redis"` and for state shared by several nodes.'),
    cluster: bool(false, 'Connect to a Redis Cluster (the url names one seed node); keys carry hash tags so that a swarm lives on one shard.'),
    key_prefix: str('essaim:', 'Prefix of every Redis key, so that several sites can share one server.'),
  },
  api: {
    enabled: bool(true, 'Serve the programmatic APIs: /api/v1 (with /api/openapi.json and /api/docs), Torznab, T411 and UNIT3D compatibility.'),
    rate_limit: int(120, { min: 1, max: 1000000 }, 'API requests allowed per token within `rate_window`.'),
    rate_limit_ip: int(300, { min: 1, max: 1000000 }, 'API requests allowed per IP address within `rate_window` (every token together, and unauthenticated calls).'),
    rate_window: seconds(60, { min: 1 }, 'The window of the API rate limits.'),
    max_tokens_per_user: int(20, { min: 1, max: 1000 }, 'Most personal API tokens one member may hold at once.'),
    torznab_enabled: bool(true, 'Serve Torznab at /api/torznab (Prowlarr, Jackett, Sonarr, Radarr).'),
    t411_enabled: bool(true, "Serve T411's historical REST API under `t411_base_path`."),
    t411_base_path: str('/t411api', "Path under which T411's API is served (e.g. /t411api/auth)."),
    t411_host: str('', "A host name (e.g. api.example.org) whose requests are answered by T411's API at the root path, behind the same server; empty: none."),
    t411_token_ttl: seconds(7776000, { min: 3600 }, 'How long a token issued by the T411 `/auth` call stays valid (T411: 90 days).'),
    unit3d_enabled: bool(true, "Serve UNIT3D's torrents API at /api/torrents (Prowlarr's UNIT3D indexer, upload assistants)."),
  },
  ledger: {
    flush_interval: seconds(5, { min: 1 }, 'How often traffic is written to the database, in seconds.'),
    max_pending: int(
      50000,
      { min: 100 },
      'Write the ledger early when this many (member, torrent) entries are waiting, bounding its memory under load.',
    ),
    baseline_retention: seconds(
      172800,
      { min: 1 },
      "How long a stopped or expired peer's last counters are kept, in seconds.",
    ),
    traffic_retention_days: int(
      90,
      { min: 1 },
      "How long members' hourly traffic (user_traffic_hour) is kept, in days; older hours are pruned hourly.",
    ),
  },
  lawful: {
    repeat_infringer_notices: int(
      3,
      { min: 0, max: 1000 },
      "Upheld copyright notices against a member's uploads, within `repeat_infringer_period`, that disable the account (0 = never).",
    ),
    repeat_infringer_period: seconds(31536000, { min: 86400 }, 'The period over which upheld notices are counted for the repeat-infringer policy.'),
    notice_limit: int(5, { min: 1, max: 10000 }, 'Copyright notices accepted per IP address within `notice_window` (the form and the API together).'),
    notice_window: seconds(3600, { min: 60 }, 'The window of `notice_limit`.'),
  },
  joining: {
    accounts_per_ip: int(2, { min: 0, max: 1000 }, 'Most accounts that may have signed up or logged in from one IP address for a new sign-up or application to be accepted (0 = no cap; as T411, 2).'),
    ip_cap_exempt: list(['127.0.0.1', '::1'], 'IP addresses the per-IP account cap ignores (loopback by default: behind a reverse proxy missing from `web.trust_proxy`, every visitor would share its address).'),
    captcha_after: int(5, { min: 1, max: 1000 }, 'Failed logins per IP address or per account within `web.login_window` after which the login form asks a (self-hosted, arithmetic) captcha.'),
    captcha_ttl: seconds(900, { min: 60 }, 'How long a captcha challenge stays answerable.'),
    verify_email: bool(true, 'New accounts receive an email-verification link and may not download .torrent files until they follow it (they may log in).'),
    verify_ttl: seconds(172800, { min: 3600 }, 'How long an email-verification link stays valid.'),
    invite_ttl: seconds(1209600, { min: 3600 }, 'How long an invitation link stays valid.'),
    class_interval: seconds(3600, { min: 60 }, 'How often member classes are recomputed (promotions, demotions), monthly invitation quotas refilled and old login IPs deleted.'),
  },
  rules: {
    interval: seconds(300, { min: 10 }, 'How often the sharing rules are evaluated (ratio watch, hit-and-run, download restrictions).'),
    min_ratio: num(1, { min: 0, max: 100 }, 'Minimum ratio (credited upload / credited download) a member must keep (0 = no ratio rule; as T411, 1.0).'),
    ratio_grace: int(5368709120, { min: 0 }, 'Credited download, in bytes, below which the ratio rule does not apply yet (default 5 GiB).'),
    ratio_watch: seconds(1209600, { min: 60 }, 'How long a member below the minimum ratio has to recover before their downloads are refused (seeding stays allowed).'),
    hnr_enabled: bool(true, 'Watch hit-and-runs: a member who completes a torrent must seed it for `hnr_seed_time` or reach `hnr_ratio` on it within `hnr_window`.'),
    hnr_seed_time: seconds(259200, { min: 0 }, 'Seeding time on a completed torrent that satisfies the hit-and-run rule (default 72 hours).'),
    hnr_ratio: num(1, { min: 0, max: 100 }, 'Ratio on a completed torrent (upload / download on it, as reported by the client) that satisfies the hit-and-run rule (0 = seeding time only).'),
    hnr_window: seconds(1209600, { min: 3600 }, 'Time after completing a torrent within which the hit-and-run rule must be satisfied.'),
    hnr_prewarn: seconds(172800, { min: 0 }, 'How long before the hit-and-run deadline the member is sent a reminder (0 = none).'),
    hnr_warning_ttl: seconds(2592000, { min: 3600 }, 'How long a hit-and-run warning stays active.'),
    hnr_max_warnings: int(3, { min: 0, max: 1000 }, 'Active hit-and-run warnings from which the member\'s downloads are refused (0 = never restrict).'),
    token_duration: seconds(172800, { min: 3600 }, 'How long a freeleech token makes one torrent free for the member who spends it.'),
  },
  privacy: {
    login_ip_days: int(
      90,
      { min: 1, max: 3650 },
      'How long the IP addresses members logged in or signed up from are kept, in days; older ones are deleted hourly.',
    ),
  },
  metrics: {
    enabled: bool(true, 'Serve Prometheus metrics.'),
    host: str('127.0.0.1', 'Address of the metrics endpoint.'),
    port: int(9100, PORT, 'TCP port of the metrics endpoint (0 = any free port).'),
  },
  log: {
    level: oneOf(LOG_LEVELS, 'info', 'Least severe level logged.'),
    pretty: bool(false, 'Human-readable log lines instead of JSON.'),
  },
} as const satisfies Record<string, Record<string, Field>>;

export type ConfigSchema = typeof configSchema;
export type SectionName = keyof ConfigSchema;

type ValueOf<F> = F extends { type: 'bool' }
  ? boolean
  : F extends { type: 'enum'; values: readonly (infer V)[] }
    ? V
    : F extends { type: 'list' }
      ? readonly string[]
      : F extends { type: 'int' | 'number' | 'duration' }
        ? number
        : F extends { type: 'string' }
          ? string
          : never;

/** The loaded configuration: `config.tracker.http_port`, etc. Deeply frozen. */
export type Config = {
  readonly [S in SectionName]: { readonly [K in keyof ConfigSchema[S]]: ValueOf<ConfigSchema[S][K]> };
};

/** Every key as "section.key". */
export type ConfigKey = { [S in SectionName]: `${S}.${keyof ConfigSchema[S] & string}` }[SectionName];

/** All [section, key, field] triples, in schema order. */
export function schemaEntries(): Array<{ section: string; key: string; path: string; field: Field }> {
  const out: Array<{ section: string; key: string; path: string; field: Field }> = [];
  for (const [section, fields] of Object.entries(configSchema)) {
    for (const [key, field] of Object.entries(fields as Record<string, Field>)) {
      out.push({ section, key, path: `${section}.${key}`, field });
    }
  }
  return out;
}

/** The environment variable of a key: tracker.http_port → ESSAIM_TRACKER__HTTP_PORT. */
export function envName(section: string, key: string): string {
  return `ESSAIM_${section.toUpperCase()}__${key.toUpperCase()}`;
}
