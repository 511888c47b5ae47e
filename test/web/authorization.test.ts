/**
 * The authorization walk: EVERY route the website registers (collected with an onRoute hook on a
 * web app built over a started site), called in-process (`inject`) as each role: visitor, member,
 * uploader, moderator, super-moderator, administrator. Path parameters get the id of an existing
 * row (a member, a torrent, a report...).
 *
 * In scope: every route under /staff or /admin, and every other route whose handler asked the
 * policy (requirePermission records each check on its request: src/web/staff.ts). For each:
 *
 * - a route listed in EXPECT must answer as the policy (`can`, over the installed default grants)
 *   says for that permission, and must ask the policy for exactly that permission;
 * - a route under /staff or /admin that is not listed must still have asked the policy, and its
 *   answer must follow what the policy said; reaching one without any check fails;
 * - a route elsewhere that asked the policy must answer as the policy said.
 *
 * "Denied" is a 403 or a redirect to the login page; anything else but a server error is
 * "reached" (a 400 for the empty form we post, a 404 after an earlier action removed the row...).
 * Requests carry a valid CSRF token; after every POST that was not refused, the grants, the
 * actors and their sessions are restored, so that one route's effects do not disturb the next.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { bencode } from '../../src/protocol/bencode.js';
import type { User } from '../../src/db/schema.js';
import { createSession } from '../../src/site/sessions.js';
import { can, installDefaultGrants, invalidateGrants, type Permission } from '../../src/site/staff/policy.js';
import { insertTorrent } from '../../src/site/torrents/read.testing.js';
import { buildWebApp } from '../../src/web/app.js';
import { CSRF_COOKIE, SESSION_COOKIE } from '../../src/web/context.js';
import { HUB } from '../../src/web/features/discipline/hub.js';
import { permissionChecksOf, type PermissionCheck } from '../../src/web/staff.js';
import { buildTorrent } from '../fixtures/metainfo/builders.js';
import { startSite, type TestSite } from '../helpers/site.js';

/** What a route requires: a permission (on the fixture member when `target`), or any of several. */
type Expect = Permission | { permission: Permission; target: true } | { any: readonly Permission[] };

const onMember = (permission: Permission): Expect => ({ permission, target: true });

/**
 * The table of expectations: route → the permission it requires. Routes under /staff and /admin
 * that are missing here are still checked (they must ask the policy, and answer as it says).
 */
const EXPECT: Record<string, Expect> = {
  // discipline (this suite's own pages)
  'GET /admin': { any: [...new Set(HUB.flatMap((g) => g.sections.map((s) => s.permission)))] },
  'GET /staff/users': 'user.view_private',
  'GET /staff/users/:id': 'user.view_private',
  'POST /staff/users/:id/warn': onMember('user.warn'),
  'POST /staff/users/:id/warnings/:wid/revoke': onMember('user.warn'),
  'POST /staff/users/:id/ban': onMember('user.ban'),
  'POST /staff/users/:id/unban': onMember('user.ban'),
  'POST /staff/users/:id/credit': onMember('user.grant_credit'),
  'POST /staff/users/:id/note': onMember('user.view_private'),
  'POST /staff/users/:id/account': onMember('user.edit'),
  'GET /staff/ip-bans': 'ip.ban',
  'POST /staff/ip-bans': 'ip.ban',
  'POST /staff/ip-bans/:id/delete': 'ip.ban',
  'GET /staff/permissions': 'permission.manage',
  'POST /staff/permissions': 'permission.manage',
  'GET /staff/permissions/users/:id': onMember('permission.manage'),
  'POST /staff/permissions/users/:id': onMember('permission.manage'),
  'GET /staff/audit': 'audit.read',
  'POST /staff/audit/verify': 'audit.read',
  // catalogue
  'GET /admin/categories': 'catalogue.manage',
  'GET /admin/categories/new': 'catalogue.manage',
  'POST /admin/categories/new': 'catalogue.manage',
  'GET /admin/categories/:id': 'catalogue.manage',
  'POST /admin/categories/:id': 'catalogue.manage',
  'POST /admin/categories/:id/delete': 'catalogue.manage',
  'GET /admin/categories/types/new': 'catalogue.manage',
  'POST /admin/categories/types/new': 'catalogue.manage',
  'GET /admin/categories/types/:id': 'catalogue.manage',
  'POST /admin/categories/types/:id': 'catalogue.manage',
  'POST /admin/categories/types/:id/bindings': 'catalogue.manage',
  'POST /admin/categories/types/:id/terms': 'catalogue.manage',
  'GET /admin/categories/terms/:id': 'catalogue.manage',
  'POST /admin/categories/terms/:id': 'catalogue.manage',
  // Torznab category mapping
  'GET /admin/torznab': 'catalogue.manage',
  'POST /admin/torznab': 'catalogue.manage',
  'POST /admin/torznab/reset': 'catalogue.manage',
  // moderation
  'GET /staff/queue': 'torrent.moderate',
  'GET /staff/queue/:id': 'torrent.moderate',
  'POST /staff/queue/:id/approve': 'torrent.moderate',
  'POST /staff/queue/:id/reject': 'torrent.moderate',
  'POST /staff/queue/:id/request-edit': 'torrent.moderate',
  'GET /staff/torrents/:id/edit': 'torrent.edit_any',
  'POST /staff/torrents/:id/edit': 'torrent.edit_any',
  'GET /staff/torrents/:id/delete': 'torrent.delete_any',
  'POST /staff/torrents/:id/delete': 'torrent.delete_any',
  'GET /staff/torrents/:id/merge': 'torrent.merge',
  'POST /staff/torrents/:id/merge': 'torrent.merge',
  'GET /staff/torrents/:id/factors': 'torrent.set_factors',
  'POST /staff/torrents/:id/factors': 'torrent.set_factors',
  'GET /staff/reports': 'report.handle',
  'GET /staff/reports/:id': 'report.handle',
  'POST /staff/reports/:id/claim': 'report.handle',
  'POST /staff/reports/:id/resolve': 'report.handle',
  'POST /staff/reports/:id/note': 'report.handle',
  'GET /staff/settings': 'settings.manage',
  'POST /staff/settings': 'settings.manage',
  // lawful
  'GET /staff/notices': 'notice.review',
  'GET /staff/notices/:id': 'notice.review',
  'POST /staff/notices/:id/decide': 'notice.review',
  'POST /staff/counter-notices/:id/decide': 'notice.review',
  'GET /staff/blocklist': 'blocklist.manage',
  'POST /staff/blocklist': 'blocklist.manage',
  'POST /staff/blocklist/remove': 'blocklist.manage',
  // joining
  'GET /staff/joining': 'settings.manage',
  'POST /staff/joining': 'settings.manage',
  'POST /staff/joining/domains': 'settings.manage',
  'POST /staff/joining/domains/delete': 'settings.manage',
  'POST /staff/joining/classes': 'settings.manage',
  'GET /staff/applications': 'application.review',
  'GET /staff/applications/:id': 'application.review',
  'POST /staff/applications/:id': 'application.review',
  'GET /staff/invites': 'invite.manage',
  'POST /staff/invites/:id/revoke': 'invite.manage',
  'POST /staff/invites/grant': 'invite.manage',
  // community
  'GET /staff/news': 'news.manage',
  'GET /staff/news/new': 'news.manage',
  'POST /staff/news': 'news.manage',
  'GET /staff/news/:id/edit': 'news.manage',
  'POST /staff/news/:id/edit': 'news.manage',
  'POST /staff/news/:id/delete': 'news.manage',
  'GET /staff/contact': 'contact.read',
  'POST /staff/contact/:id/status': 'contact.read',
};

const ROLES = ['visitor', 'member', 'uploader', 'moderator', 'supermod', 'admin'] as const;
type Role = (typeof ROLES)[number];

const STAFF_PATH = /^\/(staff|admin)(\/|$)/;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface RouteInfo {
  method: string;
  url: string;
  csrf: boolean | 'manual';
}

interface Outcome {
  status: number;
  location: string | null;
  checks: readonly PermissionCheck[];
}

const denied = (o: Outcome) => o.status === 403 || (o.status >= 300 && o.status < 400 && (o.location ?? '').startsWith('/login'));

describe('authorization: every route, every role', () => {
  let s: TestSite;
  let app: FastifyInstance;
  const routes: RouteInfo[] = [];
  const actors = new Map<Exclude<Role, 'visitor'>, User>();
  let target: User;
  const ids: Record<string, string> = {};
  let lastChecks: readonly PermissionCheck[] = [];
  const csrfCookie = 'authorization-walk-csrf-cookie';
  let csrfToken = '';

  before(async () => {
    s = await startSite();
    const site = s.app.site();
    const db = s.app.db();
    app = buildWebApp({ site, ready: () => true });
    app.addHook('onRoute', (r) => {
      for (const m of Array.isArray(r.method) ? r.method : [r.method]) {
        if (m === 'HEAD' || m === 'OPTIONS') continue;
        const config = (r.config ?? {}) as { csrf?: boolean | 'manual' };
        routes.push({ method: m, url: r.url, csrf: config.csrf ?? true });
      }
    });
    app.addHook('onSend', async (req, _reply, payload) => {
      lastChecks = [...permissionChecksOf(req)];
      return payload;
    });
    await app.ready();
    csrfToken = createHmac('sha256', site.secret).update(`csrf:${csrfCookie}`).digest('base64url');

    for (const role of ['member', 'uploader', 'moderator', 'supermod', 'admin'] as const) {
      const m = await s.member(`walk-${role}`, { role });
      actors.set(role, await db.selectFrom('user').selectAll().where('id', '=', m.id).executeTakeFirstOrThrow());
    }
    const t = await s.member('walk-target');
    target = await db.selectFrom('user').selectAll().where('id', '=', t.id).executeTakeFirstOrThrow();
    await fixtures();
  });

  after(async () => {
    await app?.close();
    await s?.stop();
  });

  /** One row of each kind a path parameter may name. */
  async function fixtures(): Promise<void> {
    const db = s.app.db();
    const now = s.app.site().now();
    const torrentOf = async (name: string, status: 'active' | 'pending') => {
      const b = buildTorrent('v1', { name, files: [{ path: ['f.bin'], size: 1000 }] });
      b.top.announce = 'http://uploader.example/announce';
      return (await insertTorrent(db, { raw: bencode(b.top), uploaderId: target.id, status })).id;
    };
    ids.torrent = String(await torrentOf('Walk active', 'active'));
    ids.pending = String(await torrentOf('Walk pending', 'pending'));
    ids.member = String(target.id);
    const cat = await db.selectFrom('category').select('id').orderBy('id').limit(1).executeTakeFirst();
    const type = await db.selectFrom('term_type').select('id').orderBy('id').limit(1).executeTakeFirst();
    const term = await db.selectFrom('term').select('id').orderBy('id').limit(1).executeTakeFirst();
    ids.category = String(cat?.id ?? 1);
    ids.type = String(type?.id ?? 1);
    ids.term = String(term?.id ?? 1);
    const one = async <T extends { id: number }>(p: Promise<T>) => String((await p).id);
    ids.warning = await one(db.insertInto('user_warning').values({ user_id: target.id, kind: 'manual', reason: 'walk', created_by: null, created_at: now, expires_at: null, revoked_at: null, revoked_by: null }).returning('id').executeTakeFirstOrThrow());
    ids.ipban = await one(db.insertInto('ip_ban').values({ cidr: '192.0.2.123', reason: 'walk', created_by: null, created_at: now, expires_at: null }).returning('id').executeTakeFirstOrThrow());
    ids.report = await one(db.insertInto('report').values({ target_type: 'torrent', target_id: Number(ids.torrent), reporter_id: target.id, reason: 'walk', created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow());
    ids.notice = await one(db.insertInto('notice').values({ claimant: 'Walk Rights', contact: 'rights@example.test', works: 'A work', statement: 'good faith', created_at: now, reviewer_id: null, decision_note: null, decided_at: null }).returning('id').executeTakeFirstOrThrow());
    await db.insertInto('notice_item').values({ notice_id: Number(ids.notice), idx: 0, given: ids.torrent, torrent_id: Number(ids.torrent), info_hash: null, uploader_id: target.id }).execute();
    ids.counter = await one(db.insertInto('counter_notice').values({ notice_id: Number(ids.notice), user_id: target.id, statement: 'mine', created_at: now, decided_at: null }).returning('id').executeTakeFirstOrThrow());
    ids.comment = await one(db.insertInto('comment').values({ torrent_id: Number(ids.torrent), user_id: target.id, body: 'walk', created_at: now, edited_at: null, deleted_at: null, deleted_by: null }).returning('id').executeTakeFirstOrThrow());
    ids.request = await one(db.insertInto('request').values({ user_id: target.id, title: 'walk', category_id: null, filled_torrent_id: null, filled_by: null, filled_at: null, confirmed_at: null, created_at: now }).returning('id').executeTakeFirstOrThrow());
    ids.message = await one(db.insertInto('message').values({ sender_id: target.id, recipient_id: target.id, subject: 'walk', body: 'walk', reply_to: null, created_at: now, read_at: null }).returning('id').executeTakeFirstOrThrow());
    ids.news = await one(db.insertInto('news').values({ author_id: null, title: 'walk', body: 'walk', locale: null, created_at: now, updated_at: null }).returning('id').executeTakeFirstOrThrow());
    ids.contact = await one(db.insertInto('contact_message').values({ user_id: target.id, email: null, subject: 'walk', body: 'walk', created_at: now }).returning('id').executeTakeFirstOrThrow());
    ids.invite = await one(db.insertInto('invite').values({ inviter_id: target.id, code_hash: 'walk-code-hash', email: null, created_at: now, expires_at: now + 86400, used_by: null, used_at: null, revoked_at: null }).returning('id').executeTakeFirstOrThrow());
    ids.application = await one(db.insertInto('application').values({ username: 'walkapplicant', email: 'applicant@example.test', password_hash: 'x', answers: '[]', reviewer_id: null, review_note: null, ip: null, created_at: now, decided_at: null }).returning('id').executeTakeFirstOrThrow());
  }

  /** The id for a path parameter, from the segment before it. */
  function paramValue(segments: string[], i: number): string {
    const name = segments[i]!.slice(1);
    const prev = segments[i - 1] ?? '';
    if (name === 'type') return 'torrent';
    if (name === 'slug') return 'walk';
    if (name === 'token' || name === 'code') return 'walk-not-a-token';
    const byPrev: Record<string, string | undefined> = {
      users: ids.member, u: ids.member, friends: ids.member,
      warnings: ids.warning,
      torrents: ids.torrent, t: ids.torrent, queue: ids.pending,
      categories: ids.category, types: ids.type, terms: ids.term,
      reports: ids.report, notices: ids.notice, received: ids.notice, counter: ids.notice, 'counter-notices': ids.counter,
      'ip-bans': ids.ipban, comments: ids.comment, requests: ids.request, messages: ids.message, news: ids.news,
      contact: ids.contact, invites: ids.invite, applications: ids.application,
    };
    // /report/:type/:id names a torrent.
    if (segments[i - 2] === 'report') return ids.torrent!;
    return byPrev[prev] ?? '1';
  }

  function concrete(url: string): string {
    const segs = url.split('/');
    return segs.map((seg, i) => (seg.startsWith(':') ? paramValue(segs, i) : seg === '*' ? 'site.css' : seg)).join('/');
  }

  const sessions = new Map<Role, string>();
  async function newSession(role: Exclude<Role, 'visitor'>): Promise<string> {
    const site = s.app.site();
    const token = await createSession(site.db, actors.get(role)!.id, { persistent: false, ttl: 3600, ip: null, userAgent: null, now: site.now() });
    sessions.set(role, token);
    return token;
  }

  async function call(web: FastifyInstance, r: RouteInfo, role: Role): Promise<Outcome> {
    const cookies: Record<string, string> = { [CSRF_COOKIE]: csrfCookie };
    if (role !== 'visitor') cookies[SESSION_COOKIE] = sessions.get(role) ?? (await newSession(role));
    const headers: Record<string, string> = { 'x-csrf-token': csrfToken, 'accept-language': 'en' };
    let payload: string | undefined;
    if (UNSAFE.has(r.method)) {
      if (r.csrf === 'manual') {
        const boundary = 'walkboundary';
        headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
        payload = `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrfToken}\r\n--${boundary}--\r\n`;
      } else {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        payload = `_csrf=${encodeURIComponent(csrfToken)}`;
      }
    }
    lastChecks = [];
    const res = await web.inject({ method: r.method as 'GET', url: concrete(r.url), headers, cookies, ...(payload !== undefined ? { payload } : {}) });
    const location = typeof res.headers.location === 'string' ? res.headers.location : null;
    return { status: res.statusCode, location, checks: lastChecks };
  }

  /** Undo what a POST may have changed for the next calls: grants, overrides, the actors' state. */
  async function restore(): Promise<void> {
    const db = s.app.db();
    await db.deleteFrom('role_permission').execute();
    await installDefaultGrants(db);
    await db.deleteFrom('user_permission').execute();
    for (const u of [...actors.values(), target]) {
      await db.updateTable('user').set({ role: u.role, enabled: 1, disabled_reason: null, deleted_at: null, username: u.username }).where('id', '=', u.id).execute();
    }
    await db.deleteFrom('ip_ban').where('cidr', '=', '127.0.0.1').execute();
    invalidateGrants(db);
    // A route may have ended sessions (logout, password change): every role gets a fresh one.
    sessions.clear();
  }

  async function expected(e: Expect, role: Role): Promise<boolean> {
    if (role === 'visitor') return false;
    const db = s.app.db();
    const actor = actors.get(role)!;
    if (typeof e === 'string') return can(db, actor, e);
    if ('any' in e) {
      for (const p of e.any) if (await can(db, actor, p)) return true;
      return false;
    }
    return can(db, actor, e.permission, target);
  }

  const permsOf = (e: Expect): readonly Permission[] => (typeof e === 'string' ? [e] : 'any' in e ? e.any : [e.permission]);

  /** Walks the routes as every role; returns the failures and a printable table. */
  async function walk(web: FastifyInstance, list: readonly RouteInfo[]): Promise<{ failures: string[]; lines: string[]; inScope: number }> {
    const site = s.app.site();
    const failures: string[] = [];
    const lines: string[] = [];
    let inScope = 0;
    // GETs first: the POSTs that change state run after every page was seen.
    const ordered = [...list].sort((a, b) => Number(UNSAFE.has(a.method)) - Number(UNSAFE.has(b.method)) || a.url.localeCompare(b.url));
    for (const r of ordered) {
      const key = `${r.method} ${r.url}`;
      if (r.url.startsWith('/static/') || r.url === '/healthz' || r.url === '/readyz') continue;
      const outcomes = new Map<Role, Outcome>();
      for (const role of ROLES) {
        const o = await call(web, r, role);
        outcomes.set(role, o);
        if (UNSAFE.has(r.method) && !denied(o)) await restore();
        // Sent to the login page as a member: the session is gone (ended by an earlier route).
        if (role !== 'visitor' && (o.location ?? '').startsWith('/login')) sessions.delete(role);
      }
      const staff = STAFF_PATH.test(r.url);
      const asked = [...outcomes.values()].some((o) => o.checks.length > 0);
      const e = EXPECT[key];
      if (!staff && !asked && !e) continue;
      inScope++;
      const cells: string[] = [];
      for (const role of ROLES) {
        const o = outcomes.get(role)!;
        const was = denied(o) ? 'deny' : 'allow';
        cells.push(`${role}:${was}(${o.status})`);
        const where = `${key} as ${role}: ${o.status}${o.location ? ` → ${o.location}` : ''}`;
        if (o.status >= 500) {
          failures.push(`${where}: server error`);
          continue;
        }
        // What the policy said on this request (recomputed, to check the recording too).
        for (const c of o.checks) {
          const actor = role === 'visitor' ? null : actors.get(role)!;
          let policy = false;
          for (const p of c.permissions) if (await can(site.db, actor, p, c.target ?? undefined)) policy = true;
          if (policy !== c.granted) failures.push(`${where}: recorded check ${c.permissions.join('|')} said ${c.granted}, the policy says ${policy}`);
        }
        const checkedOk = o.checks.length > 0 && o.checks.every((c) => c.granted);
        if (e) {
          const want = await expected(e, role);
          if (want !== (was === 'allow')) failures.push(`${where}: the table expects ${want ? 'allow' : 'deny'} (${permsOf(e).join(' or ')})`);
          if (role !== 'visitor' && o.checks.length > 0) {
            const askedFor = new Set(o.checks.flatMap((c) => c.permissions));
            if (!permsOf(e).every((p) => askedFor.has(p))) failures.push(`${where}: asked for ${[...askedFor].join(', ')} instead of ${permsOf(e).join(' or ')}`);
          }
          if (role !== 'visitor' && o.checks.length === 0 && was === 'allow') failures.push(`${where}: reached without asking the policy`);
        } else if (o.checks.length > 0) {
          if (checkedOk !== (was === 'allow')) failures.push(`${where}: the policy said ${checkedOk ? 'allow' : 'deny'} but the route answered ${was}`);
        } else if (staff && was === 'allow') {
          failures.push(`${where}: a staff route reached without asking the policy`);
        }
        if (staff && role === 'visitor' && !(o.status === 303 && (o.location ?? '').startsWith('/login'))) {
          failures.push(`${where}: a visitor should be sent to the login page`);
        }
      }
      const askedAll = [...new Set([...outcomes.values()].flatMap((o) => o.checks.flatMap((c) => c.permissions)))];
      lines.push(`${key.padEnd(48)} ${e ? permsOf(e).join('|') : `(not in the table; asked: ${askedAll.join('|') || 'nothing'})`}\n    ${cells.join(' ')}`);
    }
    return { failures, lines, inScope };
  }

  it('answers every route as the policy says, for every role', async () => {
    assert.ok(routes.length > 50, `the walk found the routes (${routes.length})`);
    const { failures, lines, inScope } = await walk(app, routes);
    // The table names no route that does not exist.
    const known = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const k of Object.keys(EXPECT)) if (!known.has(k)) failures.push(`${k}: listed in EXPECT but not registered`);
    console.log(`authorization walk: ${routes.length} routes, ${inScope} in scope\n${lines.join('\n')}`);
    assert.ok(inScope >= 30, `the staff routes were walked (${inScope})`);
    assert.deepEqual(failures, [], `authorization failures:\n${failures.join('\n')}`);
  });

  it('fails a staff route that answers without asking the policy', async () => {
    // The same walk over an app with one deliberately broken route.
    const broken = buildWebApp({ site: s.app.site(), ready: () => true });
    broken.addHook('onSend', async (req, _reply, payload) => {
      lastChecks = [...permissionChecksOf(req)];
      return payload;
    });
    broken.get('/staff/walk-broken', async () => 'open to all');
    await broken.ready();
    try {
      const { failures, inScope } = await walk(broken, [{ method: 'GET', url: '/staff/walk-broken', csrf: true }]);
      assert.equal(inScope, 1);
      for (const role of ROLES.slice(1)) {
        assert.ok(failures.some((f) => f.startsWith(`GET /staff/walk-broken as ${role}: 200`) && f.endsWith('a staff route reached without asking the policy')), `${role} reaching it is a failure`);
      }
      assert.ok(failures.some((f) => f.endsWith('a visitor should be sent to the login page')), 'a visitor reaching it is a failure');
    } finally {
      await broken.close();
    }
  });
});
