/**
 * The Torznab category mapping, for members holding catalogue.manage (administrators by default;
 * other members get 403, visitors the login page):
 *
 *   GET  /admin/torznab          every subcategory with its Newznab category (a select each)
 *   POST /admin/torznab          saves the choices (fields `cat_<subcategory id>`), audited
 *   POST /admin/torznab/reset    back to the default mapping, audited
 *
 * The mapping itself (defaults, custom ids, how requests select categories) is described in
 * src/api/torznab/categories.ts; changes are written by src/api/torznab/mapping.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CUSTOM_BASE, STANDARD, defaultNewznabId, standardCategory, type CategoryMapping } from '../../../api/torznab/categories.js';
import { readMapping, resetMapping, saveMapping, type MappingError } from '../../../api/torznab/mapping.js';
import type { Site } from '../../../site/site.js';
import { setFlash, type RequestContext } from '../../context.js';
import { attr, html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import { requirePermission } from '../../staff.js';

const label = (id: number) => `${id} — ${standardCategory(id)?.name ?? '?'}`;

function options(selected: number): Html[] {
  const groups: Html[] = [];
  for (const p of STANDARD) {
    if (p.parentId !== null) continue;
    const members = STANDARD.filter((c) => c.id === p.id || c.parentId === p.id);
    groups.push(html`<optgroup label="${p.name}">${members.map((c) => html`<option value="${c.id}"${attr('selected', c.id === selected)}>${label(c.id)}</option>`)}</optgroup>`);
  }
  return groups;
}

function mappingPage(ctx: RequestContext, site: Site, m: CategoryMapping, values: ReadonlyMap<number, number>, errors: ReadonlyMap<number, MappingError>): Html {
  const { t, locale } = ctx;
  const tables = m.catalogue.parents
    .filter((p) => p.children.length > 0)
    .map(
      (p) => html`<table class="torznab-mapping">
<caption>${t('torznab.caption', { parent: p.name(locale) })}</caption>
<thead><tr><th scope="col">${t('torznab.col.subcategory')}</th><th scope="col">${t('torznab.col.custom')}</th><th scope="col">${t('torznab.col.newznab')}</th><th scope="col">${t('torznab.col.default')}</th></tr></thead>
<tbody>${p.children.map((c) => {
        const id = `nz-${c.id}`;
        const err = errors.get(c.id);
        const current = values.get(c.id) ?? m.newznab.get(c.id)!;
        const dflt = defaultNewznabId(c);
        return html`<tr>
<th scope="row"><label for="${id}">${c.name(locale)}</label></th>
<td>${CUSTOM_BASE + c.id}</td>
<td><select id="${id}" name="cat_${c.id}"${err ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>${options(current)}</select>${err ? html`<p class="field-error" id="${id}-error">${t(`torznab.error.${err}`)}</p>` : ''}</td>
<td>${label(dflt)}${m.overridden.has(c.id) ? html` <span class="badge">${t('torznab.changed')}</span>` : ''}</td>
</tr>`;
      })}</tbody>
</table>`,
    );
  return html`<h1>${t('torznab.title')}</h1>
<p>${t('torznab.intro', { custom: String(CUSTOM_BASE) })}</p>
<p>${t('torznab.endpoint', { url: `${site.publicUrl}/api/torznab` })}</p>
${errors.size > 0 ? html`<p class="form-errors" role="alert">${t('common.form.errors')}</p>` : ''}
${tables.length === 0
  ? html`<p class="note">${t('torznab.empty')}</p>`
  : html`<form method="post" action="/admin/torznab">
${csrfField(ctx)}
${tables}
<button type="submit">${t('torznab.save')}</button>
</form>`}
<form method="post" action="/admin/torznab/reset" class="stacked">
${csrfField(ctx)}
<p class="hint" id="torznab-reset-hint">${t('torznab.reset.hint')}</p>
<button type="submit" aria-describedby="torznab-reset-hint">${t('torznab.reset')}</button>
</form>`;
}

export function routes(app: FastifyInstance, site: Site): void {
  const show = async (req: FastifyRequest, reply: FastifyReply, values: ReadonlyMap<number, number>, errors: ReadonlyMap<number, MappingError>, status = 200) => {
    const m = await readMapping(site.db);
    return sendPage(reply, req.ctx, { title: req.ctx.t('torznab.title'), body: mappingPage(req.ctx, site, m, values, errors) }, status);
  };

  app.get('/admin/torznab', async (req, reply) => {
    await requirePermission(req, 'catalogue.manage');
    return show(req, reply, new Map(), new Map());
  });

  app.post('/admin/torznab', async (req, reply) => {
    const actor = await requirePermission(req, 'catalogue.manage');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const wanted = new Map<number, number>();
    for (const [k, v] of Object.entries(body)) {
      const m = /^cat_(\d{1,10})$/.exec(k);
      if (!m) continue;
      const s = Array.isArray(v) ? v[0] : v;
      wanted.set(Number(m[1]), typeof s === 'string' && /^\d{1,9}$/.test(s.trim()) ? Number(s.trim()) : Number.NaN);
    }
    const r = await saveMapping(site.db, actor, wanted, site.now());
    if (!r.ok) {
      const shown = new Map([...wanted].filter(([, v]) => Number.isFinite(v)));
      return show(req, reply, shown, r.errors, 400);
    }
    setFlash(reply, r.changed > 0 ? 'torznab.saved' : 'torznab.unchanged');
    return reply.redirect('/admin/torznab', 303);
  });

  app.post('/admin/torznab/reset', async (req, reply) => {
    const actor = await requirePermission(req, 'catalogue.manage');
    await resetMapping(site.db, actor, site.now());
    setFlash(reply, 'torznab.reset.done');
    return reply.redirect('/admin/torznab', 303);
  });
}
