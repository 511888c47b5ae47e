/**
 * The website in-process for tests: `startSite(t)` starts Essaim (site + tracker) on a temporary
 * SQLite file and free loopback ports; `Browser` is a small cookie-keeping HTTP client that reads
 * CSRF tokens from the pages it gets, so that tests drive forms as a browser would (no JavaScript).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { createEssaim, type Essaim, type Listening } from '../../src/compose.js';
import { hashPassword } from '../../src/site/passwords.js';
import { createUser } from '../../src/db/user.repository.js';
import type { UserRole } from '../../src/db/schema.js';

export interface TestSite {
  app: Essaim;
  listening: Listening;
  /** http://127.0.0.1:<port> of the website. */
  base: string;
  dataDir: string;
  stop(): Promise<void>;
  browser(): Browser;
  /** Creates a member directly in the database (password hashed), and tells the tracker. */
  member(username: string, opts?: { password?: string; role?: UserRole; email?: string }): Promise<{ id: number; passkey: string; rssKey: string; password: string }>;
}

type Overrides = Record<string, Record<string, unknown>>;

/**
 * Starts a site. With a test context, it stops after that test; in a `before` hook (whose context
 * has no `after`), pass nothing and call `stop()` from an `after` hook.
 */
export async function startSite(t?: TestContext | null, overrides: Overrides = {}): Promise<TestSite> {
  const dataDir = mkdtempSync(join(tmpdir(), 'essaim-site-'));
  const o: Overrides = {
    server: { data_dir: dataDir, ...(overrides.server ?? {}) },
    web: { port: 0, ...(overrides.web ?? {}) },
    metrics: { enabled: false, ...(overrides.metrics ?? {}) },
    tracker: { http_port: 0, udp_port: 0, udp_host6: '', ...(overrides.tracker ?? {}) },
    ledger: { flush_interval: 3600, ...(overrides.ledger ?? {}) },
    log: { level: 'warn', ...(overrides.log ?? {}) },
  };
  for (const [k, v] of Object.entries(overrides)) o[k] ??= v;
  const config = loadConfig({ env: {}, overrides: o as never });
  const app = createEssaim(config);
  const listening = await app.start();
  const base = listening.web!;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  if (t && typeof t.after === 'function') t.after(stop);
  return {
    stop,
    app,
    listening,
    base,
    dataDir,
    browser: () => new Browser(base),
    async member(username, opts = {}) {
      const password = opts.password ?? `pw-${username}-secret!`;
      // A cheap hash cost keeps tests fast; verifyPassword reads the cost from the hash.
      const hash = await hashPassword(password, 10);
      const m = await createUser(app.db(), { username, email: opts.email ?? `${username}@example.test`, passwordHash: hash, role: opts.role ?? 'member', now: Math.floor(Date.now() / 1000) });
      await app.site().tracker.userChanged(m.id);
      return { id: m.id, passkey: m.passkey, rssKey: m.rssKey, password };
    },
  };
}

export interface Page {
  status: number;
  headers: Headers;
  url: string;
  text: string;
  /** Redirect target (Location) for 3xx answers. */
  location: string | null;
  body: Buffer;
}

/** A cookie-keeping client. Redirects are not followed unless asked (`follow`). */
export class Browser {
  readonly cookies = new Map<string, string>();
  /** The CSRF token of the last HTML page fetched. */
  csrf = '';
  acceptLanguage = 'en';

  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keepCookies(h: Headers): void {
    for (const c of h.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, init: { body?: RequestInit['body']; headers?: Record<string, string>; follow?: boolean } = {}): Promise<Page> {
    let url = new URL(path, this.base).toString();
    let m = method;
    let body = init.body;
    for (let hop = 0; hop < 10; hop++) {
      const res = await fetch(url, {
        method: m,
        body,
        redirect: 'manual',
        headers: { cookie: this.cookieHeader(), 'accept-language': this.acceptLanguage, ...(init.headers ?? {}) },
      });
      this.keepCookies(res.headers);
      const buf = Buffer.from(await res.arrayBuffer());
      const location = res.headers.get('location');
      if (init.follow && location && res.status >= 300 && res.status < 400) {
        url = new URL(location, url).toString();
        m = 'GET';
        body = undefined;
        continue;
      }
      const text = buf.toString('utf8');
      const token = /name="_csrf" value="([^"]+)"/.exec(text);
      if (token) this.csrf = token[1]!;
      return { status: res.status, headers: res.headers, url, text, location, body: buf };
    }
    throw new Error(`too many redirects from ${path}`);
  }

  get(path: string, follow = true): Promise<Page> {
    return this.request('GET', path, { follow });
  }

  /** Posts a urlencoded form, adding the current CSRF token unless `_csrf` is given. */
  post(path: string, fields: Record<string, string | string[]>, opts: { follow?: boolean; csrf?: boolean } = {}): Promise<Page> {
    const body = new URLSearchParams();
    if (opts.csrf !== false && !('_csrf' in fields)) body.append('_csrf', this.csrf);
    for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return this.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: opts.follow ?? false });
  }

  /** Posts multipart form data (file uploads), adding the CSRF token. */
  postMultipart(path: string, form: FormData, opts: { follow?: boolean } = {}): Promise<Page> {
    if (!form.has('_csrf')) form.append('_csrf', this.csrf);
    return this.request('POST', path, { body: form, follow: opts.follow ?? false });
  }

  /** Logs in through the login form. */
  async login(username: string, password: string): Promise<Page> {
    await this.get('/login');
    return this.post('/login', { username, password }, { follow: true });
  }
}
