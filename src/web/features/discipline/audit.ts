/**
 * The staff audit log viewer (audit.read):
 *
 *   GET  /staff/audit?actor=&action=&target_type=&target_id=&from=&to=&page=   search, newest first
 *   POST /staff/audit/verify                                                   check the hash chain
 *
 * Dates are days (YYYY-MM-DD, UTC), `to` included. The verification walks the whole chain
 * (verifyAuditChain) and shows the first broken row, if any.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditVocabulary, searchAudit, type AuditQuery, type AuditRow } from '../../../site/discipline/audit-search.js';
import type { Site } from '../../../site/site.js';
import { verifyAuditChain, type ChainProblem } from '../../../site/staff/audit.js';
import type { RequestContext } from '../../context.js';
import { formatDate } from '../../format.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import type { MessageKey } from '../../messages.js';
import { requirePermission } from '../../staff.js';
import { formErrors, hasErrors, input, pageParam, pager, type Errors } from './forms.js';

const PAGE = 50;

type Query = Record<'actor' | 'action' | 'target_type' | 'target_id' | 'from' | 'to' | 'page', string | undefined>;

function dayStart(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(ms);
  if (d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return null;
  return ms / 1000;
}

interface Parsed {
  values: Record<string, string>;
  errors: Errors;
  query: Omit<AuditQuery, 'limit' | 'offset'>;
}

export function parseAuditQuery(q: Partial<Query>): Parsed {
  const v = (k: keyof Query, max: number) => (typeof q[k] === 'string' ? q[k].trim().slice(0, max) : '');
  const values = { actor: v('actor', 100), action: v('action', 100), target_type: v('target_type', 50), target_id: v('target_id', 12), from: v('from', 10), to: v('to', 10) };
  const errors: Errors = {};
  const query: Omit<AuditQuery, 'limit' | 'offset'> = {};
  if (values.actor) query.actor = values.actor;
  if (values.action) query.action = values.action;
  if (values.target_type) query.targetType = values.target_type;
  if (values.target_id) {
    if (/^\d{1,10}$/.test(values.target_id)) query.targetId = Number(values.target_id);
    else errors.target_id = 'discipline.error.number';
  }
  if (values.from) {
    const d = dayStart(values.from);
    if (d === null) errors.from = 'discipline.error.date';
    else query.from = d;
  }
  if (values.to) {
    const d = dayStart(values.to);
    if (d === null) errors.to = 'discipline.error.date';
    else query.to = d + 86400;
  }
  return { values, errors, query };
}

function targetLink(r: AuditRow): Html {
  if (r.target_type === null) return html`–`;
  const label = r.target_id === null ? r.target_type : `${r.target_type} #${r.target_id}`;
  if (r.target_id !== null && r.target_type === 'user') return html`<a href="/staff/users/${r.target_id}">${label}</a>`;
  if (r.target_id !== null && r.target_type === 'torrent') return html`<a href="/t/${r.target_id}">${label}</a>`;
  return html`${label}`;
}

function pretty(json: string | null): string {
  if (json === null) return '';
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

type Verdict = { problem: ChainProblem | null; rows: number } | null;

async function auditPage(req: FastifyRequest<{ Querystring: Partial<Query> }>, reply: FastifyReply, site: Site, verdict: Verdict): Promise<FastifyReply> {
  const ctx: RequestContext = req.ctx;
  const { t } = ctx;
  const q = verdict ? {} : req.query;
  const p = parseAuditQuery(q);
  const page = pageParam(q.page);
  const [r, vocab] = await Promise.all([
    hasErrors(p.errors) ? Promise.resolve({ rows: [], total: 0 }) : searchAudit(site.db, { ...p.query, limit: PAGE, offset: (page - 1) * PAGE }),
    auditVocabulary(site.db),
  ]);
  const pages = Math.max(1, Math.ceil(r.total / PAGE));
  const verdictHtml = !verdict
    ? ''
    : verdict.problem === null
      ? html`<p class="flash audit-ok" role="status">${t('discipline.audit.intact', { n: verdict.rows })}</p>`
      : html`<div class="form-errors audit-broken" role="alert"><p>${t(`discipline.audit.broken.${verdict.problem.problem === 'hash mismatch' ? 'hash' : 'link'}` as MessageKey, { id: verdict.problem.id })}</p></div>`;
  const rows = r.rows.map(
    (row) => html`<tr>
  <td class="num">${row.id}</td>
  <td><time datetime="${new Date(row.created_at * 1000).toISOString()}">${formatDate(ctx.locale, row.created_at)}</time></td>
  <td>${row.actor_id === null ? row.actor_name : html`<a href="/staff/users/${row.actor_id}">${row.actor_name}</a>`}</td>
  <td><code>${row.action}</code></td>
  <td>${targetLink(row)}</td>
  <td>${row.reason ?? ''}</td>
  <td>${row.before !== null || row.after !== null
    ? html`<details><summary>${t('discipline.audit.details')}</summary>
${row.before !== null ? html`<p>${t('discipline.audit.before')}</p><pre class="audit-json">${pretty(row.before)}</pre>` : ''}
${row.after !== null ? html`<p>${t('discipline.audit.after')}</p><pre class="audit-json">${pretty(row.after)}</pre>` : ''}
</details>`
    : ''}</td>
</tr>`,
  );
  const body = html`<h1>${t('discipline.audit.title')}</h1>
<p>${t('discipline.audit.intro')}</p>
${verdictHtml}
<form method="post" action="/staff/audit/verify" class="audit-verify">
  ${csrfField(ctx)}
  <button type="submit">${t('discipline.audit.verify')}</button>
</form>
<section class="panel" aria-labelledby="h-audit-search">
<h2 id="h-audit-search">${t('discipline.audit.search')}</h2>
${formErrors(ctx, p.errors)}
<form method="get" action="/staff/audit" class="form audit-search" role="search">
  ${input(ctx, { form: 'audit', name: 'actor', label: t('discipline.audit.actor'), hint: t('discipline.audit.actor_hint'), value: p.values.actor!, maxlength: 100 })}
  <div class="field">
    <label for="audit-action">${t('discipline.audit.action')}</label>
    <input id="audit-action" name="action" type="text" value="${p.values.action!}" maxlength="100" list="audit-actions" aria-describedby="audit-action-hint">
    <datalist id="audit-actions">${vocab.actions.map((a) => html`<option value="${a}"></option>`)}</datalist>
    <p class="hint" id="audit-action-hint">${t('discipline.audit.action_hint')}</p>
  </div>
  <div class="field">
    <label for="audit-target_type">${t('discipline.audit.target_type')}</label>
    <select id="audit-target_type" name="target_type">
      <option value="">${t('discipline.audit.any')}</option>
      ${vocab.targetTypes.map((tt) => html`<option value="${tt}"${p.values.target_type === tt ? html` selected` : ''}>${tt}</option>`)}
    </select>
  </div>
  ${input(ctx, { form: 'audit', name: 'target_id', label: t('discipline.audit.target_id'), value: p.values.target_id!, error: p.errors.target_id, inputmode: 'numeric', maxlength: 12 })}
  ${input(ctx, { form: 'audit', name: 'from', type: 'date', label: t('discipline.audit.from'), value: p.values.from!, error: p.errors.from })}
  ${input(ctx, { form: 'audit', name: 'to', type: 'date', label: t('discipline.audit.to'), value: p.values.to!, error: p.errors.to })}
  <p><button type="submit">${t('discipline.audit.submit')}</button> <a href="/staff/audit">${t('discipline.audit.reset')}</a></p>
</form>
</section>
<p>${t('discipline.audit.count', { n: r.total })}</p>
${r.rows.length === 0
  ? html`<p class="empty">${t('discipline.audit.none')}</p>`
  : html`<div class="table-wrap"><table class="discipline-table audit-table">
<caption class="visually-hidden">${t('discipline.audit.caption')}</caption>
<thead><tr><th scope="col" class="num">#</th><th scope="col">${t('discipline.col.date')}</th><th scope="col">${t('discipline.audit.actor')}</th><th scope="col">${t('discipline.audit.action')}</th><th scope="col">${t('discipline.audit.target')}</th><th scope="col">${t('discipline.col.reason')}</th><th scope="col">${t('discipline.audit.details')}</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`}
${pager(ctx, '/staff/audit', p.values, page, pages)}`;
  return sendPage(reply, ctx, { title: t('discipline.audit.title'), body });
}

export function auditRoutes(app: FastifyInstance, site: Site): void {
  app.get<{ Querystring: Partial<Query> }>('/staff/audit', async (req, reply) => {
    await requirePermission(req, 'audit.read');
    return auditPage(req, reply, site, null);
  });

  app.post<{ Querystring: Partial<Query> }>('/staff/audit/verify', async (req, reply) => {
    await requirePermission(req, 'audit.read');
    const [problem, count] = await Promise.all([
      verifyAuditChain(site.db),
      site.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return auditPage(req, reply, site, { problem, rows: Number(count.n) });
  });
}
