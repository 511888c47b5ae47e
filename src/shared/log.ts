/**
 * Structured logging (pino). Secrets never reach a log line: passkeys in URL paths, and the
 * values of secret-looking query parameters and fields, are replaced before anything is written.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

const PATH_SECRET = /\/[0-9a-fA-F]{32}(?=\/|$|\?)/g;
const QUERY_SECRET = /([?&](?:passkey|torrent_pass|rsskey|rss_key|apikey|api_key|api_token|token|key)=)[^&#]*/gi;

/** Replaces passkeys in a URL's path segments and secret query parameters with `<redacted>`. */
export function redactUrl(url: string): string {
  return url.replace(PATH_SECRET, '/<redacted>').replace(QUERY_SECRET, '$1<redacted>');
}

/** Field paths redacted by pino wherever they appear in a logged object. */
export const REDACT_PATHS = [
  'passkey',
  '*.passkey',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  'rssKey',
  '*.rssKey',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export interface LogOptions {
  level: string;
  pretty?: boolean;
  /** Where to write; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LogOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '<redacted>' },
      serializers: {
        url: (u: unknown) => (typeof u === 'string' ? redactUrl(u) : u),
        req: (r: { method?: string; url?: string }) => ({ method: r.method, url: r.url ? redactUrl(r.url) : r.url }),
        err: pino.stdSerializers.err,
      },
    },
    opts.destination ?? process.stdout,
  );
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
