/**
 * The page layout: header (site name, navigation, search box, member box, language switch), the
 * flash message, the page body, and the footer. Pages return `page(ctx, { title, body })`.
 * Works without JavaScript; /static/app.js only adds enhancements (autocomplete, live preview).
 */
import type { FastifyReply } from 'fastify';
import type { RequestContext } from './context.js';
import { formatDate, formatRatio, formatSize } from './format.js';
import { html, type Html, type HtmlValue } from './html.js';

export interface PageOptions {
  title: string;
  body: HtmlValue;
  /** Extra elements for <head> (feed links, canonical URL). */
  head?: HtmlValue;
  /** Prefill of the header's search box. */
  query?: string;
}

const STAFF = new Set(['moderator', 'supermod', 'admin']);

export function page(ctx: RequestContext, o: PageOptions): Html {
  const { t, user, site } = ctx;
  const siteName = site.config.site.name;
  const langHref = (l: string) => {
    const u = new URL(ctx.path, 'http://x');
    u.searchParams.set('lang', l);
    return u.pathname + u.search;
  };
  const member = user
    ? html`<div class="member">
        <a href="/u/${user.id}" class="member-name">${user.username}</a>
        <span class="member-stats" title="${t('common.ratio')}">
          <span>↑ ${formatSize(t, ctx.locale, user.uploaded)}</span>
          <span>↓ ${formatSize(t, ctx.locale, user.downloaded)}</span>
          <span>${t('common.ratio')} ${formatRatio(ctx.locale, user.uploaded, user.downloaded)}</span>
        </span>
        <a href="/messages" class="member-messages">${t('community.header.messages')}${ctx.unreadMessages ? html` <span class="badge unread">${ctx.unreadMessages}<span class="visually-hidden"> ${t('community.header.unread')}</span></span>` : ''}</a>
        <a href="/notifications" class="member-notifications">${t('moderation.nav.notifications')}${ctx.unreadNotifications ? html` <span class="badge unread">${ctx.unreadNotifications}<span class="visually-hidden"> ${t('moderation.nav.unread')}</span></span>` : ''}</a>
        <a href="/account">${t('common.nav.account')}</a>
        <form method="post" action="/logout" class="inline">
          <input type="hidden" name="_csrf" value="${ctx.csrf}">
          <button type="submit" class="link">${t('common.nav.logout')}</button>
        </form>
      </div>`
    : html`<div class="member">
        <a href="/login?next=${encodeURIComponent(ctx.path)}">${t('common.nav.login')}</a>
        <a href="/register">${t('common.nav.register')}</a>
      </div>`;
  return html`<!doctype html>
<html lang="${ctx.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${siteName}</title>
<link rel="stylesheet" href="/static/site.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml" title="${siteName}">
${o.head}
<script src="/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${t('common.skip')}</a>
<header class="site-header">
  <a class="brand" href="/">${siteName}</a>
  <nav aria-label="${t('common.nav.main')}">
    <ul>
      <li><a href="/browse">${t('common.nav.browse')}</a></li>
      <li><a href="/top">${t('common.nav.top')}</a></li>
      ${user ? html`<li><a href="/upload">${t('common.nav.upload')}</a></li>
      <li><a href="/bookmarks">${t('common.nav.bookmarks')}</a></li>
      <li><a href="/requests">${t('community.nav.requests')}</a></li>
      <li><a href="/friends">${t('community.nav.community')}</a></li>` : ''}
      ${user && STAFF.has(user.role) ? html`<li><a href="/admin">${t('common.nav.admin')}</a></li>` : ''}
    </ul>
  </nav>
  <form class="search" method="get" action="/browse" role="search">
    <label for="header-q" class="visually-hidden">${t('common.nav.search')}</label>
    <input id="header-q" type="search" name="q" value="${o.query ?? ''}" placeholder="${t('common.nav.search_placeholder')}" autocomplete="off" data-suggest="/search/suggest" list="header-q-suggestions">
    <datalist id="header-q-suggestions"></datalist>
    <button type="submit">${t('common.nav.search')}</button>
  </form>
  ${member}
  <nav class="lang" aria-label="${t('common.lang.switch')}">
    <a href="${langHref('en')}" lang="en" hreflang="en"${ctx.locale === 'en' ? html` aria-current="true"` : ''}>EN</a>
    <a href="${langHref('fr')}" lang="fr" hreflang="fr"${ctx.locale === 'fr' ? html` aria-current="true"` : ''}>FR</a>
  </nav>
</header>
<main id="main">
${ctx.siteFactors ? siteFactorsBanner(ctx) : ''}
${ctx.flash ? html`<p class="flash" role="status">${t(ctx.flash)}</p>` : ''}
${o.body}
</main>
<footer class="site-footer">
  <a href="/rss">${t('common.footer.rss')}</a>
  <a href="/staff-team">${t('community.footer.staff')}</a>
  <a href="/contact">${t('community.footer.contact')}</a>
  <a href="/legal">${t('common.footer.legal')}</a>
  <a href="/legal/transparency">${t('common.footer.transparency')}</a>
</footer>
</body>
</html>`;
}

/** The banner of a site-wide freeleech or double-upload window in force. */
function siteFactorsBanner(ctx: RequestContext): Html {
  const f = ctx.siteFactors!;
  const until = formatDate(ctx.locale, f.until);
  const parts: string[] = [];
  if (f.download === 0) parts.push(ctx.t('common.banner.freeleech'));
  else if (f.download < 1) parts.push(ctx.t('common.banner.download', { n: String(f.download) }));
  if (f.upload > 1) parts.push(ctx.t('common.banner.upload', { n: String(f.upload) }));
  return html`<p class="banner site-factors" role="status">${parts.join(' ')} ${ctx.t('common.banner.until', { date: until })}</p>`;
}

export function sendPage(reply: FastifyReply, ctx: RequestContext, o: PageOptions, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page(ctx, o).value);
}

export function errorPage(reply: FastifyReply, ctx: RequestContext, status: number, message: string): FastifyReply {
  return sendPage(reply, ctx, { title: ctx.t('common.error.title'), body: html`<h1>${ctx.t('common.error.title')}</h1><p class="error">${message}</p>` }, status);
}

/** Hidden CSRF field for forms. */
export function csrfField(ctx: RequestContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}
