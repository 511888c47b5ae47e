/**
 * The joining pages for staff (each route asks the policy first, through requirePermission):
 *
 *   GET  /staff/joining                    settings.manage: mode, open windows, application
 *                                          questions, refused email domains, the class ladder
 *   POST /staff/joining                    saves mode, windows and questions
 *   POST /staff/joining/domains            adds a refused domain
 *   POST /staff/joining/domains/delete     removes one
 *   POST /staff/joining/classes            saves the ladder's names and thresholds
 *   GET  /staff/applications               application.review: pending and recent applications
 *   GET  /staff/applications/<id>          one application, with the decision form
 *   POST /staff/applications/<id>          accept (the account is created) or reject, with a note
 *   GET  /staff/invites                    invite.manage: live invitations and the invite tree
 *   POST /staff/invites/<id>/revoke        revokes someone's invitation
 *   POST /staff/invites/grant              gives a member invitations
 *
 * Every change is written to the audit log, in the transaction that makes it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DuplicateUserError, findUserById, findUserByUsername } from '../../../db/user.repository.js';
import type { Locale, User } from '../../../db/schema.js';
import { inTransaction } from '../../../db/util.js';
import { answersOf, decideApplication, getApplication, listApplications, type ApplicationRow } from '../../../site/joining/applications.js';
import { listClasses, type MemberClass } from '../../../site/joining/classes.js';
import { addRefusedDomain, listRefusedDomains, normaliseDomain, removeRefusedDomain } from '../../../site/joining/domains.js';
import { inviteTree, listPendingInvites, revokeInvite, type TreeNode } from '../../../site/joining/invites.js';
import { accountsFromIp } from '../../../site/joining/ips.js';
import { registrationStatus } from '../../../site/joining/rules.js';
import { timeZones, windowProblem, type OpenWindow } from '../../../site/joining/schedule.js';
import { isJoinMode, JOIN_MODES, loadJoiningSettings, MAX_QUESTION_LENGTH, MAX_QUESTIONS, MAX_WINDOWS, saveJoiningSettings, type JoiningSettings } from '../../../site/joining/settings.js';
import { verificationLink } from '../../../site/joining/verify.js';
import type { Site } from '../../../site/site.js';
import { audit } from '../../../site/staff/audit.js';
import { can } from '../../../site/staff/policy.js';
import { HttpError, setFlash, type RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField, errorPage, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requirePermission } from '../../staff.js';
import { bodyOf, checked, errorSummary, hasErrors, str, type FieldErrors } from '../accounts/shared.js';
import { sendApplicationMail } from './mail.js';
import { registrationNotice } from './pieces.js';
import { textArea } from './member.js';

const GiB = 1024 ** 3;

function parseId(s: string): number | null {
  if (!/^\d{1,12}$/.test(s)) return null;
  const n = Number(s);
  return n > 0 ? n : null;
}

function fieldError(ctx: RequestContext, id: string, error: MessageKey | undefined): Html {
  return error ? html`<p class="field-error" id="${id}-error">${ctx.t(error)}</p>` : html``;
}

function invalidAttrs(id: string, error: MessageKey | undefined): Html {
  return error ? html` aria-invalid="true" aria-describedby="${id}-error"` : html``;
}

/** Weekday names, Sunday first, in the page's language. */
function weekdays(locale: Locale): string[] {
  const f = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', { weekday: 'long', timeZone: 'UTC' });
  // 5 January 2025 was a Sunday.
  return Array.from({ length: 7 }, (_, i) => f.format(new Date(Date.UTC(2025, 0, 5 + i))));
}

// --- settings -----------------------------------------------------------------------------------

/** A window row as typed (strings), for re-display after an error. */
interface WindowInput {
  day: string;
  start: string;
  end: string;
  zone: string;
  cap: string;
}

interface SettingsForm {
  mode: string;
  windows: WindowInput[];
  questions: string;
  errors: FieldErrors;
}

function formOf(s: JoiningSettings): SettingsForm {
  return {
    mode: s.mode,
    windows: s.windows.map((w) => ({ day: String(w.day), start: w.start, end: w.end, zone: w.zone, cap: String(w.cap) })),
    questions: s.questions.join('\n'),
    errors: {},
  };
}

function windowRow(ctx: RequestContext, w: WindowInput, i: number, errors: FieldErrors, days: string[]): Html {
  const { t } = ctx;
  const p = `window_${i}`;
  const err = (k: string) => errors[`${p}_${k}`];
  return html`<fieldset class="joining-window">
  <legend>${t('joining.staff.window.legend', { n: i + 1 })}</legend>
  <div class="field"><label for="${p}_day">${t('joining.staff.window.day')}</label>
    <select id="${p}_day" name="${p}_day"${invalidAttrs(`${p}_day`, err('day'))}>${days.map((d, n) => html`<option value="${n}"${String(n) === w.day ? html` selected` : ''}>${d}</option>`)}</select>${fieldError(ctx, `${p}_day`, err('day'))}</div>
  <div class="field"><label for="${p}_start">${t('joining.staff.window.start')}</label>
    <input id="${p}_start" name="${p}_start" type="time" value="${w.start}"${invalidAttrs(`${p}_start`, err('start'))}>${fieldError(ctx, `${p}_start`, err('start'))}</div>
  <div class="field"><label for="${p}_end">${t('joining.staff.window.end')}</label>
    <input id="${p}_end" name="${p}_end" type="time" value="${w.end}"${invalidAttrs(`${p}_end`, err('end'))}>${fieldError(ctx, `${p}_end`, err('end'))}</div>
  <div class="field"><label for="${p}_zone">${t('joining.staff.window.zone')}</label>
    <input id="${p}_zone" name="${p}_zone" type="text" list="joining-zones" value="${w.zone}" autocomplete="off"${invalidAttrs(`${p}_zone`, err('zone'))}>${fieldError(ctx, `${p}_zone`, err('zone'))}</div>
  <div class="field"><label for="${p}_cap">${t('joining.staff.window.cap')}</label>
    <input id="${p}_cap" name="${p}_cap" type="number" min="0" step="1" inputmode="numeric" value="${w.cap}"${invalidAttrs(`${p}_cap`, err('cap'))}>${fieldError(ctx, `${p}_cap`, err('cap'))}</div>
  ${w.start !== '' || w.end !== '' ? html`<div class="field field-check"><input id="${p}_remove" type="checkbox" name="${p}_remove" value="1"><label for="${p}_remove">${t('joining.staff.window.remove')}</label></div>` : ''}
</fieldset>`;
}

function classesSection(ctx: RequestContext, classes: MemberClass[], errors: FieldErrors): Html {
  const { t, locale } = ctx;
  const cell = (c: MemberClass, k: string, value: string, label: string, type = 'number', step = '1') => {
    const id = `class_${c.id}_${k}`;
    const e = errors[id];
    return html`<td><label class="visually-hidden" for="${id}">${label} (${locale === 'fr' ? c.name_fr : c.name_en})</label><input id="${id}" name="${id}" type="${type}"${type === 'number' ? html` min="0" step="${step}"` : ''} value="${value}"${invalidAttrs(id, e)}>${fieldError(ctx, id, e)}</td>`;
  };
  return html`<section class="panel" aria-labelledby="h-classes">
<h2 id="h-classes">${t('joining.staff.classes.title')}</h2>
<p>${t('joining.staff.classes.intro')}</p>
<form method="post" action="/staff/joining/classes" class="joining-classes-form" novalidate>
${csrfField(ctx)}
<div class="table-wrap"><table class="joining-table joining-classes">
<caption class="visually-hidden">${t('joining.staff.classes.title')}</caption>
<thead><tr>
  <th scope="col">${t('joining.staff.classes.id')}</th>
  <th scope="col">${t('joining.staff.classes.name_en')}</th>
  <th scope="col">${t('joining.staff.classes.name_fr')}</th>
  <th scope="col">${t('joining.staff.classes.uploaded')}</th>
  <th scope="col">${t('joining.staff.classes.ratio')}</th>
  <th scope="col">${t('joining.staff.classes.age')}</th>
  <th scope="col">${t('joining.staff.classes.invites')}</th>
  <th scope="col">${t('joining.staff.classes.immune')}</th>
</tr></thead>
<tbody>${classes.map(
    (c) => html`<tr>
  <th scope="row">${c.id}</th>
  ${cell(c, 'name_en', c.name_en, t('joining.staff.classes.name_en'), 'text')}
  ${cell(c, 'name_fr', c.name_fr, t('joining.staff.classes.name_fr'), 'text')}
  ${cell(c, 'uploaded', String(Math.round((c.min_uploaded / GiB) * 100) / 100), t('joining.staff.classes.uploaded'), 'number', '0.01')}
  ${cell(c, 'ratio', String(c.min_ratio), t('joining.staff.classes.ratio'), 'number', '0.01')}
  ${cell(c, 'age', String(c.min_age_days), t('joining.staff.classes.age'))}
  ${cell(c, 'invites', String(c.invites_per_month), t('joining.staff.classes.invites'))}
  <td><input id="class_${c.id}_immune" type="checkbox" name="class_${c.id}_immune" value="1"${c.hnr_immune === 1 ? html` checked` : ''}><label class="visually-hidden" for="class_${c.id}_immune">${t('joining.staff.classes.immune')} (${locale === 'fr' ? c.name_fr : c.name_en})</label></td>
</tr>`,
  )}</tbody>
</table></div>
<p><button type="submit">${t('joining.staff.classes.save')}</button></p>
</form>
</section>`;
}

async function settingsPage(reply: FastifyReply, ctx: RequestContext, site: Site, f: SettingsForm, o: { domainError?: MessageKey; domain?: string; classErrors?: FieldErrors } = {}, status = 200): Promise<FastifyReply> {
  const { t, locale } = ctx;
  const [domains, classes, state] = await Promise.all([listRefusedDomains(site.db), listClasses(site.db), registrationStatus(site.db, site.now())]);
  const days = weekdays(locale);
  const rows = [...f.windows];
  if (rows.length < MAX_WINDOWS) rows.push({ day: '6', start: '', end: '', zone: f.windows.at(-1)?.zone ?? 'Europe/Paris', cap: '0' });
  const body = html`<h1>${t('joining.staff.title')}</h1>
${errorSummary(ctx, f.errors)}
<p>${t(`joining.staff.now.${state.openToAll ? 'open' : state.mode}`)}</p>
${registrationNotice(ctx, state)}
<form method="post" action="/staff/joining" class="form" novalidate>
${csrfField(ctx)}
<fieldset class="joining-modes">
  <legend>${t('joining.staff.mode')}</legend>
  ${JOIN_MODES.map((m) => html`<div class="field field-check"><input id="mode-${m}" type="radio" name="mode" value="${m}"${f.mode === m ? html` checked` : ''} aria-describedby="mode-${m}-hint"><label for="mode-${m}">${t(`joining.mode.${m}`)}</label><p class="hint" id="mode-${m}-hint">${t(`joining.mode.${m}.hint`)}</p></div>`)}
</fieldset>
<section aria-labelledby="h-windows">
<h2 id="h-windows">${t('joining.staff.windows')}</h2>
<p class="hint">${t('joining.staff.windows.hint')}</p>
${rows.map((w, i) => windowRow(ctx, w, i, f.errors, days))}
<datalist id="joining-zones">${timeZones().map((z) => html`<option value="${z}"></option>`)}</datalist>
</section>
<section aria-labelledby="h-questions">
<h2 id="h-questions">${t('joining.staff.questions')}</h2>
${textArea(ctx, { name: 'questions', label: t('joining.staff.questions.label'), value: f.questions, error: f.errors.questions, hint: t('joining.staff.questions.hint', { n: MAX_QUESTIONS }), rows: 6 })}
</section>
<p><button type="submit">${t('joining.staff.save')}</button></p>
</form>
<section class="panel" aria-labelledby="h-domains">
<h2 id="h-domains">${t('joining.staff.domains.title')}</h2>
<p>${t('joining.staff.domains.intro')}</p>
${domains.length === 0
  ? html`<p class="empty">${t('joining.staff.domains.none')}</p>`
  : html`<ul class="joining-domains">${domains.map(
      (d) => html`<li><span>${d.domain}</span> <form method="post" action="/staff/joining/domains/delete" class="inline">${csrfField(ctx)}<input type="hidden" name="domain" value="${d.domain}"><button type="submit" class="link">${t('joining.staff.domains.remove', { domain: d.domain })}</button></form></li>`,
    )}</ul>`}
<form method="post" action="/staff/joining/domains" class="form" novalidate>
${csrfField(ctx)}
<div class="field"><label for="f-domain">${t('joining.staff.domains.add_label')}</label>
<input id="f-domain" name="domain" type="text" value="${o.domain ?? ''}" maxlength="253" autocomplete="off"${invalidAttrs('f-domain', o.domainError)}>${fieldError(ctx, 'f-domain', o.domainError)}</div>
<p><button type="submit">${t('joining.staff.domains.add')}</button></p>
</form>
</section>
${classesSection(ctx, classes, o.classErrors ?? {})}`;
  return sendPage(reply, ctx, { title: t('joining.staff.title'), body }, status);
}

/** Reads the settings form; errors by field name. */
function readSettings(b: Record<string, unknown>): { settings: JoiningSettings; form: SettingsForm } {
  const errors: FieldErrors = {};
  const modeRaw = str(b, 'mode', 20);
  if (!isJoinMode(modeRaw)) errors.mode = 'joining.staff.error.mode';
  const inputs: WindowInput[] = [];
  const windows: OpenWindow[] = [];
  for (let i = 0; i <= MAX_WINDOWS; i++) {
    const p = `window_${i}`;
    const w: WindowInput = { day: str(b, `${p}_day`, 2), start: str(b, `${p}_start`, 8).trim(), end: str(b, `${p}_end`, 8).trim(), zone: str(b, `${p}_zone`, 64).trim(), cap: str(b, `${p}_cap`, 10).trim() };
    if (w.start === '' && w.end === '') continue;
    if (checked(b, `${p}_remove`)) continue;
    const idx = inputs.length;
    inputs.push(w);
    // Browsers may send seconds with a time input ("18:00:00").
    const hhmm = (s: string) => s.replace(/^(\d\d:\d\d):\d\d$/, '$1');
    const win: OpenWindow = { day: Number(w.day), start: hhmm(w.start), end: hhmm(w.end), zone: w.zone, cap: w.cap === '' ? 0 : Number(w.cap) };
    const problem = windowProblem(win);
    if (problem) errors[`window_${idx}_${problem}`] = `joining.staff.error.window_${problem}`;
    else if (windows.length < MAX_WINDOWS) windows.push(win);
  }
  const questionsText = str(b, 'questions', MAX_QUESTIONS * (MAX_QUESTION_LENGTH + 2));
  const questions = questionsText.split(/\r?\n/).map((q) => q.trim()).filter((q) => q !== '');
  if (questions.length > MAX_QUESTIONS) errors.questions = 'joining.staff.error.questions_many';
  else if (questions.some((q) => q.length > MAX_QUESTION_LENGTH)) errors.questions = 'joining.staff.error.question_long';
  const mode = isJoinMode(modeRaw) ? modeRaw : 'open';
  if (mode === 'application' && questions.length === 0 && !errors.questions) errors.questions = 'joining.staff.error.questions_none';
  const form: SettingsForm = { mode: modeRaw, windows: inputs, questions: questionsText, errors };
  return { settings: { mode, windows, questions }, form };
}

// --- applications -------------------------------------------------------------------------------

function applicationTable(ctx: RequestContext, rows: ApplicationRow[], caption: string, decided: boolean): Html {
  const { t, locale } = ctx;
  if (rows.length === 0) return html`<p class="empty">${t('joining.staff.apps.none')}</p>`;
  return html`<div class="table-wrap"><table class="joining-table">
<caption class="visually-hidden">${caption}</caption>
<thead><tr>
  <th scope="col">${t('joining.col.created')}</th>
  <th scope="col">${t('accounts.field.username')}</th>
  <th scope="col">${t('joining.col.email')}</th>
  ${decided ? html`<th scope="col">${t('joining.col.state')}</th><th scope="col">${t('joining.col.reviewer')}</th>` : ''}
</tr></thead>
<tbody>${rows.map(
    (r) => html`<tr>
  <td>${formatDate(locale, r.created_at)}</td>
  <td><a href="/staff/applications/${r.id}">${r.username}</a></td>
  <td>${r.email}</td>
  ${decided ? html`<td><span class="badge application-${r.status}">${t(`joining.application.state.${r.status}`)}</span></td><td>${r.reviewer_name ?? '–'}</td>` : ''}
</tr>`,
  )}</tbody>
</table></div>`;
}

async function applicationPage(reply: FastifyReply, ctx: RequestContext, site: Site, a: ApplicationRow, o: { note?: string; general?: string } = {}, status = 200): Promise<FastifyReply> {
  const { t, locale } = ctx;
  const fromIp = a.ip ? await accountsFromIp(site.db, a.ip) : 0;
  const body = html`<h1>${t('joining.staff.app.title', { username: a.username })}</h1>
${errorSummary(ctx, {}, o.general)}
<p><a href="/staff/applications">${t('joining.staff.apps.back')}</a></p>
<dl class="facts">
  <dt>${t('accounts.field.username')}</dt><dd>${a.username}</dd>
  <dt>${t('joining.col.email')}</dt><dd>${a.email}</dd>
  <dt>${t('joining.col.created')}</dt><dd>${formatDate(locale, a.created_at)}</dd>
  <dt>${t('joining.staff.app.ip')}</dt><dd>${a.ip ?? '–'}${a.ip ? html` (${t('joining.staff.app.ip_accounts', { n: fromIp })})` : ''}</dd>
  <dt>${t('joining.col.state')}</dt><dd><span class="badge application-${a.status}">${t(`joining.application.state.${a.status}`)}</span></dd>
  ${a.status !== 'pending' ? html`<dt>${t('joining.col.reviewer')}</dt><dd>${a.reviewer_name ?? '–'}${a.decided_at ? html`, ${formatDate(locale, a.decided_at)}` : ''}</dd>
  <dt>${t('joining.staff.app.note')}</dt><dd>${a.review_note ?? '–'}</dd>` : ''}
</dl>
<section aria-labelledby="h-answers">
<h2 id="h-answers">${t('joining.staff.app.answers')}</h2>
${answersOf(a).length === 0
  ? html`<p class="empty">${t('joining.staff.app.no_answers')}</p>`
  : html`<dl class="joining-answers">${answersOf(a).map((x) => html`<dt>${x.question}</dt><dd>${x.answer}</dd>`)}</dl>`}
</section>
${a.status === 'pending'
  ? html`<section class="panel" aria-labelledby="h-decide">
<h2 id="h-decide">${t('joining.staff.app.decide')}</h2>
<form method="post" action="/staff/applications/${a.id}" class="form" novalidate>
  ${csrfField(ctx)}
  ${textArea(ctx, { name: 'note', label: t('joining.staff.app.note'), value: o.note ?? '', hint: t('joining.staff.app.note_hint'), rows: 3, maxlength: 2000 })}
  <p class="actions"><button type="submit" name="decision" value="accept">${t('joining.staff.app.accept')}</button>
  <button type="submit" name="decision" value="reject">${t('joining.staff.app.reject')}</button></p>
</form>
</section>`
  : ''}`;
  return sendPage(reply, ctx, { title: t('joining.staff.app.title', { username: a.username }), body }, status);
}

// --- invitations --------------------------------------------------------------------------------

function treeList(ctx: RequestContext, nodes: TreeNode[], top: boolean): Html {
  const { t, locale } = ctx;
  return html`<ul${top ? html` class="invite-tree"` : ''}>${nodes.map(
    (n) => html`<li><a href="/u/${n.id}">${n.username}</a> <span class="note">${formatDate(locale, n.created_at)}${n.enabled !== 1 ? html` · ${t('joining.staff.tree.disabled')}` : ''}${n.children.length > 0 ? html` · ${t('joining.staff.tree.invited', { n: n.children.length })} · <a href="/staff/invites?root=${n.id}">${t('joining.staff.tree.subtree')}</a>` : ''}</span>${n.children.length > 0 ? treeList(ctx, n.children, false) : ''}</li>`,
  )}</ul>`;
}

async function staffInvitesPage(reply: FastifyReply, req: FastifyRequest, site: Site, o: { root?: number; grant?: { username: string; count: string; errors: FieldErrors } } = {}, status = 200): Promise<FastifyReply> {
  const ctx = req.ctx;
  const { t, locale } = ctx;
  const now = site.now();
  const [pending, tree] = await Promise.all([listPendingInvites(site.db, now), inviteTree(site.db, o.root !== undefined ? { rootId: o.root } : {})]);
  const g = o.grant ?? { username: '', count: '1', errors: {} };
  const body = html`<h1>${t('joining.staff.invites.title')}</h1>
${errorSummary(ctx, g.errors)}
<section class="panel" aria-labelledby="h-pending-invites">
<h2 id="h-pending-invites">${t('joining.staff.invites.pending')}</h2>
${pending.length === 0
  ? html`<p class="empty">${t('joining.invites.none')}</p>`
  : html`<div class="table-wrap"><table class="joining-table">
<caption class="visually-hidden">${t('joining.staff.invites.pending')}</caption>
<thead><tr><th scope="col">${t('joining.col.inviter')}</th><th scope="col">${t('joining.col.created')}</th><th scope="col">${t('joining.col.email')}</th><th scope="col">${t('joining.col.expires')}</th><th scope="col"><span class="visually-hidden">${t('joining.col.actions')}</span></th></tr></thead>
<tbody>${pending.map(
      (i) => html`<tr><td><a href="/u/${i.inviter_id}">${i.inviter_name}</a></td><td>${formatDate(locale, i.created_at)}</td><td>${i.email ?? '–'}</td><td>${formatDate(locale, i.expires_at)}</td>
<td><form method="post" action="/staff/invites/${i.id}/revoke" class="inline">${csrfField(ctx)}<button type="submit" class="link">${t('joining.invite.revoke')}</button></form></td></tr>`,
    )}</tbody></table></div>`}
</section>
<section class="panel" aria-labelledby="h-grant">
<h2 id="h-grant">${t('joining.staff.grant.title')}</h2>
<form method="post" action="/staff/invites/grant" class="form" novalidate>
  ${csrfField(ctx)}
  <div class="field"><label for="f-grant-username">${t('accounts.field.username')}</label>
  <input id="f-grant-username" name="username" type="text" value="${g.username}" maxlength="32" autocomplete="off" required${invalidAttrs('f-grant-username', g.errors.username)}>${fieldError(ctx, 'f-grant-username', g.errors.username)}</div>
  <div class="field"><label for="f-grant-count">${t('joining.staff.grant.count')}</label>
  <input id="f-grant-count" name="count" type="number" min="1" max="100" step="1" value="${g.count}" required${invalidAttrs('f-grant-count', g.errors.count)}>${fieldError(ctx, 'f-grant-count', g.errors.count)}</div>
  <p><button type="submit">${t('joining.staff.grant.submit')}</button></p>
</form>
</section>
<section aria-labelledby="h-tree">
<h2 id="h-tree">${t('joining.staff.tree.title')}</h2>
${o.root !== undefined ? html`<p><a href="/staff/invites">${t('joining.staff.tree.all')}</a></p>` : ''}
${tree.roots.length === 0 ? html`<p class="empty">${t('joining.staff.tree.empty')}</p>` : treeList(ctx, tree.roots, true)}
${tree.truncated ? html`<p class="note">${t('joining.staff.tree.truncated', { n: tree.count })}</p>` : ''}
</section>`;
  return sendPage(reply, ctx, { title: t('joining.staff.invites.title'), body }, status);
}

export function staffRoutes(app: FastifyInstance, site: Site): void {
  // --- settings ---------------------------------------------------------------------------------
  app.get('/staff/joining', async (req, reply) => {
    await requirePermission(req, 'settings.manage');
    return settingsPage(reply, req.ctx, site, formOf(await loadJoiningSettings(site.db)));
  });

  app.post('/staff/joining', async (req, reply) => {
    const actor = await requirePermission(req, 'settings.manage');
    const { settings, form } = readSettings(bodyOf(req));
    if (hasErrors(form.errors)) return settingsPage(reply, req.ctx, site, form, {}, 400);
    const now = site.now();
    await inTransaction(site.db, async (trx) => {
      const before = await loadJoiningSettings(trx);
      await saveJoiningSettings(trx, settings, now);
      await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'joining.settings', targetType: 'site', before, after: settings, now });
    });
    setFlash(reply, 'joining.staff.saved');
    return reply.redirect('/staff/joining', 303);
  });

  app.post('/staff/joining/domains', async (req, reply) => {
    const actor = await requirePermission(req, 'settings.manage');
    const typed = str(bodyOf(req), 'domain', 300);
    const domain = normaliseDomain(typed);
    if (!domain) return settingsPage(reply, req.ctx, site, formOf(await loadJoiningSettings(site.db)), { domain: typed, domainError: 'joining.staff.error.domain' }, 400);
    const now = site.now();
    await inTransaction(site.db, async (trx) => {
      if (await addRefusedDomain(trx, domain, now)) {
        await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'joining.domain.refuse', targetType: 'email_domain', after: { domain }, now });
      }
    });
    setFlash(reply, 'joining.staff.domains.added');
    return reply.redirect('/staff/joining#h-domains', 303);
  });

  app.post('/staff/joining/domains/delete', async (req, reply) => {
    const actor = await requirePermission(req, 'settings.manage');
    const domain = normaliseDomain(str(bodyOf(req), 'domain', 300));
    const now = site.now();
    const removed = domain
      ? await inTransaction(site.db, async (trx) => {
          if (!(await removeRefusedDomain(trx, domain))) return false;
          await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'joining.domain.allow', targetType: 'email_domain', before: { domain }, now });
          return true;
        })
      : false;
    setFlash(reply, removed ? 'joining.staff.domains.removed' : 'joining.staff.domains.not_found');
    return reply.redirect('/staff/joining#h-domains', 303);
  });

  app.post('/staff/joining/classes', async (req, reply) => {
    const actor = await requirePermission(req, 'settings.manage');
    const b = bodyOf(req);
    const classes = await listClasses(site.db);
    const errors: FieldErrors = {};
    const updated = classes.map((c) => {
      const k = (name: string) => `class_${c.id}_${name}`;
      const num = (name: string, max: number, integer: boolean): number => {
        const raw = str(b, k(name), 30).trim().replace(',', '.');
        const v = Number(raw);
        if (raw === '' || !Number.isFinite(v) || v < 0 || v > max || (integer && !Number.isInteger(v))) {
          errors[k(name)] = 'joining.staff.error.number';
          return 0;
        }
        return v;
      };
      const text = (name: string): string => {
        const v = str(b, k(name), 80).trim();
        if (v === '') errors[k(name)] = 'common.form.required';
        return v;
      };
      return {
        id: c.id,
        name_en: text('name_en'),
        name_fr: text('name_fr'),
        min_uploaded: Math.round(num('uploaded', 1e9, false) * GiB),
        min_ratio: num('ratio', 1000, false),
        min_age_days: num('age', 36500, true),
        invites_per_month: num('invites', 1000, true),
        hnr_immune: (checked(b, k('immune')) ? 1 : 0) as 0 | 1,
      };
    });
    if (hasErrors(errors)) return settingsPage(reply, req.ctx, site, formOf(await loadJoiningSettings(site.db)), { classErrors: errors }, 400);
    const now = site.now();
    await inTransaction(site.db, async (trx) => {
      for (const u of updated) {
        const { id, ...values } = u;
        await trx.updateTable('member_class').set(values).where('id', '=', id).execute();
      }
      await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'joining.classes', targetType: 'member_class', before: classes, after: updated, now });
    });
    setFlash(reply, 'joining.staff.classes.saved');
    return reply.redirect('/staff/joining#h-classes', 303);
  });

  // --- applications -----------------------------------------------------------------------------
  app.get('/staff/applications', async (req, reply) => {
    await requirePermission(req, 'application.review');
    const { t } = req.ctx;
    const [pending, accepted, rejected] = await Promise.all([
      listApplications(site.db, 'pending'),
      listApplications(site.db, 'accepted', 25),
      listApplications(site.db, 'rejected', 25),
    ]);
    const decided = [...accepted, ...rejected].sort((a, b) => (b.decided_at ?? 0) - (a.decided_at ?? 0));
    const body = html`<h1>${t('joining.staff.apps.title')}</h1>
<section aria-labelledby="h-apps-pending">
<h2 id="h-apps-pending">${t('joining.staff.apps.pending', { n: pending.length })}</h2>
${applicationTable(req.ctx, pending, t('joining.staff.apps.pending', { n: pending.length }), false)}
</section>
<section aria-labelledby="h-apps-decided">
<h2 id="h-apps-decided">${t('joining.staff.apps.decided')}</h2>
${applicationTable(req.ctx, decided, t('joining.staff.apps.decided'), true)}
</section>`;
    return sendPage(reply, req.ctx, { title: t('joining.staff.apps.title'), body });
  });

  app.get<{ Params: { id: string } }>('/staff/applications/:id', async (req, reply) => {
    await requirePermission(req, 'application.review');
    const id = parseId(req.params.id);
    const a = id === null ? undefined : await getApplication(site.db, id);
    if (!a) return errorPage(reply, req.ctx, 404, req.ctx.t('joining.staff.app.not_found'));
    return applicationPage(reply, req.ctx, site, a);
  });

  app.post<{ Params: { id: string } }>('/staff/applications/:id', async (req, reply) => {
    const actor = await requirePermission(req, 'application.review');
    const ctx = req.ctx;
    const id = parseId(req.params.id);
    const a = id === null ? undefined : await getApplication(site.db, id);
    if (!a || id === null) return errorPage(reply, ctx, 404, ctx.t('joining.staff.app.not_found'));
    const b = bodyOf(req);
    const decision = str(b, 'decision', 10);
    const note = str(b, 'note', 2000).trim() || null;
    if (decision !== 'accept' && decision !== 'reject') throw new HttpError(400, 'common.error.bad_request');
    let result;
    try {
      result = await decideApplication(site, id, { reviewer: actor, accept: decision === 'accept', note });
    } catch (err) {
      if (!(err instanceof DuplicateUserError)) throw err;
      return applicationPage(reply, ctx, site, a, { note: note ?? '', general: ctx.t(err.field === 'username' ? 'joining.staff.app.username_taken' : 'joining.staff.app.email_taken') }, 409);
    }
    if (!result.ok) {
      setFlash(reply, 'joining.staff.app.already');
      return reply.redirect(`/staff/applications/${id}`, 303);
    }
    let verifyLink: string | null = null;
    if (result.userId !== null) {
      const u = await findUserById(site.db, result.userId);
      if (u && site.config.joining.verify_email) verifyLink = await verificationLink(site, u);
      await site.tracker.userChanged(result.userId);
    }
    await sendApplicationMail(site, { to: a.email, username: a.username, accepted: result.userId !== null, note, locale: ctx.locale, verifyLink });
    setFlash(reply, result.userId !== null ? 'joining.staff.app.accepted' : 'joining.staff.app.rejected');
    return reply.redirect('/staff/applications', 303);
  });

  // --- invitations ------------------------------------------------------------------------------
  app.get<{ Querystring: { root?: string } }>('/staff/invites', async (req, reply) => {
    await requirePermission(req, 'invite.manage');
    const root = req.query.root ? parseId(req.query.root) : null;
    return staffInvitesPage(reply, req, site, root !== null ? { root } : {});
  });

  app.post<{ Params: { id: string } }>('/staff/invites/:id/revoke', async (req, reply) => {
    const actor = await requirePermission(req, 'invite.manage');
    const id = parseId(req.params.id);
    const now = site.now();
    const done =
      id !== null &&
      (await inTransaction(site.db, async (trx) => {
        const row = await revokeInvite(trx, id, { now });
        if (!row) return false;
        await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'invite.revoke', targetType: 'invite', targetId: id, before: { inviter_id: row.inviter_id, email: row.email, expires_at: row.expires_at }, now });
        return true;
      }));
    setFlash(reply, done ? 'joining.invite.revoked' : 'joining.invite.not_revocable');
    return reply.redirect('/staff/invites', 303);
  });

  app.post('/staff/invites/grant', async (req, reply) => {
    const actor = await requirePermission(req, 'invite.manage');
    const b = bodyOf(req);
    const username = str(b, 'username', 100).trim();
    const countRaw = str(b, 'count', 10).trim();
    const count = Number(countRaw);
    const errors: FieldErrors = {};
    const target: User | undefined = username ? await findUserByUsername(site.db, username) : undefined;
    if (!target) errors.username = username ? 'joining.staff.grant.unknown' : 'common.form.required';
    else if (!(await can(site.db, actor, 'invite.manage', target))) errors.username = 'joining.staff.grant.rank';
    if (!Number.isInteger(count) || count < 1 || count > 100) errors.count = 'joining.staff.error.count';
    if (hasErrors(errors) || !target) return staffInvitesPage(reply, req, site, { grant: { username, count: countRaw, errors } }, 400);
    const now = site.now();
    await inTransaction(site.db, async (trx) => {
      await trx.updateTable('user').set((eb) => ({ invites_left: eb('invites_left', '+', count) })).where('id', '=', target.id).execute();
      await audit(trx, { actorId: actor.id, actorName: actor.username, action: 'invite.grant', targetType: 'user', targetId: target.id, before: { invites_left: target.invites_left }, after: { invites_left: target.invites_left + count }, now });
    });
    setFlash(reply, 'joining.staff.grant.done');
    return reply.redirect('/staff/invites', 303);
  });
}
