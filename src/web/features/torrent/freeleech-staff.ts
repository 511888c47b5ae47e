/**
 * Staff: site-wide freeleech and multiplier windows (permission `freeleech.manage`, audited by
 * src/site/rules/freeleech.ts). Dates are entered in UTC.
 *
 *   GET  /staff/freeleech               the windows (current, scheduled, past) and the form
 *   POST /staff/freeleech               schedules a window
 *   POST /staff/freeleech/:id/delete    removes a window
 */
import type { FastifyInstance } from 'fastify';
import { checkWindow, createWindow, deleteWindow, listWindows, type WindowError } from '../../../site/rules/freeleech.js';
import type { Site } from '../../../site/site.js';
import { setFlash, type RequestContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { csrfField, sendPage } from '../../layout.js';
import { requirePermission } from '../../staff.js';
import { parseId } from './links.js';

interface WindowForm {
  starts: string;
  ends: string;
  upload: string;
  download: string;
  reason: string;
}

const utc = (s: number) => new Date(s * 1000).toISOString().slice(0, 16);
/** "2026-05-01T14:00" (a datetime-local value, read as UTC) → epoch seconds, or NaN. */
const parseUtc = (v: string) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v) ? Date.parse(v + ':00Z') / 1000 : NaN);

function windowsPage(ctx: RequestContext, site: Site, rows: Awaited<ReturnType<typeof listWindows>>, form: WindowForm, error: WindowError | null): Html {
  const { t } = ctx;
  const now = site.now();
  const state = (r: { starts_at: number; ends_at: number }) => (now < r.starts_at ? 'scheduled' : now < r.ends_at ? 'current' : 'past');
  const err = (k: WindowError) => (error === k ? html`<p class="field-error" id="err-${k}">${t(`torrent.freeleech.error.${k}`)}</p>` : '');
  return html`<h1>${t('torrent.freeleech.title')}</h1>
<p>${t('torrent.freeleech.intro')}</p>
${rows.length
  ? html`<table>
<caption>${t('torrent.freeleech.caption')}</caption>
<thead><tr><th scope="col">${t('torrent.freeleech.col.starts')}</th><th scope="col">${t('torrent.freeleech.col.ends')}</th><th scope="col">${t('torrent.freeleech.col.download')}</th><th scope="col">${t('torrent.freeleech.col.upload')}</th><th scope="col">${t('torrent.freeleech.col.reason')}</th><th scope="col">${t('torrent.freeleech.col.state')}</th><th scope="col">${t('torrent.freeleech.col.actions')}</th></tr></thead>
<tbody>${rows.map(
      (r) => html`<tr><td>${utc(r.starts_at)} UTC</td><td>${utc(r.ends_at)} UTC</td><td>×${String(r.download_factor)}</td><td>×${String(r.upload_factor)}</td><td>${r.reason}${r.created_by_name ? html` (${r.created_by_name})` : ''}</td><td>${t(`torrent.freeleech.state.${state(r)}`)}</td>
<td><form method="post" action="/staff/freeleech/${r.id}/delete" class="inline">${csrfField(ctx)}<button type="submit">${t('torrent.freeleech.delete')}</button></form></td></tr>`,
    )}</tbody>
</table>`
  : html`<p class="note">${t('torrent.freeleech.empty')}</p>`}
<h2>${t('torrent.freeleech.new')}</h2>
<form method="post" action="/staff/freeleech" class="stacked">
${csrfField(ctx)}
<label for="fl-starts">${t('torrent.freeleech.col.starts')} (UTC)</label>
<input id="fl-starts" name="starts" type="datetime-local" required value="${form.starts}"${error === 'dates' ? html` aria-invalid="true" aria-describedby="err-dates"` : ''}>
<label for="fl-ends">${t('torrent.freeleech.col.ends')} (UTC)</label>
<input id="fl-ends" name="ends" type="datetime-local" required value="${form.ends}"${error === 'dates' ? html` aria-invalid="true" aria-describedby="err-dates"` : ''}>
${err('dates')}
<label for="fl-download">${t('torrent.freeleech.col.download')}</label>
<input id="fl-download" name="download" type="number" min="0" max="10" step="0.05" required value="${form.download}">
<label for="fl-upload">${t('torrent.freeleech.col.upload')}</label>
<input id="fl-upload" name="upload" type="number" min="0" max="10" step="0.05" required value="${form.upload}">
${err('factors')}
<label for="fl-reason">${t('torrent.freeleech.col.reason')}</label>
<input id="fl-reason" name="reason" maxlength="500" required value="${form.reason}"${error === 'reason' ? html` aria-invalid="true" aria-describedby="err-reason"` : ''}>
${err('reason')}
<button type="submit">${t('torrent.freeleech.create')}</button>
</form>`;
}

export function freeleechStaffRoutes(app: FastifyInstance, site: Site): void {
  app.get('/staff/freeleech', async (req, reply) => {
    await requirePermission(req, 'freeleech.manage');
    const now = site.now();
    const form = { starts: utc(now), ends: utc(now + 86400), upload: '1', download: '0', reason: '' };
    return sendPage(reply, req.ctx, { title: req.ctx.t('torrent.freeleech.title'), body: windowsPage(req.ctx, site, await listWindows(site.db), form, null) });
  });

  app.post('/staff/freeleech', async (req, reply) => {
    const actor = await requirePermission(req, 'freeleech.manage');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
    const form: WindowForm = { starts: str('starts'), ends: str('ends'), upload: str('upload'), download: str('download'), reason: str('reason') };
    const input = {
      startsAt: parseUtc(form.starts),
      endsAt: parseUtc(form.ends),
      uploadFactor: form.upload.trim() === '' ? NaN : Number(form.upload),
      downloadFactor: form.download.trim() === '' ? NaN : Number(form.download),
      reason: form.reason,
    };
    const error = checkWindow(input);
    if (error) {
      return sendPage(reply, req.ctx, { title: req.ctx.t('torrent.freeleech.title'), body: windowsPage(req.ctx, site, await listWindows(site.db), form, error) }, 400);
    }
    await createWindow(site, actor, input, site.now());
    setFlash(reply, 'torrent.freeleech.created');
    return reply.redirect('/staff/freeleech', 303);
  });

  app.post<{ Params: { id: string } }>('/staff/freeleech/:id/delete', async (req, reply) => {
    const actor = await requirePermission(req, 'freeleech.manage');
    const id = parseId(req.params.id);
    const done = id !== null && (await deleteWindow(site, actor, id, site.now()));
    setFlash(reply, done ? 'torrent.freeleech.deleted' : 'torrent.freeleech.not_found');
    return reply.redirect('/staff/freeleech', 303);
  });
}
