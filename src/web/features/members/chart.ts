/**
 * The profile's daily traffic chart: an SVG bar chart (uploaded and downloaded per UTC day), with
 * a <title> and <desc> for assistive technology, a legend and axis labels as text. Static markup
 * only (no script, no style element, colours as presentation attributes), every text escaped.
 */
import type { DayTraffic } from '../../../site/members/profile.js';
import type { RequestContext } from '../../context.js';
import { formatSize } from '../../format.js';
import { escapeHtml } from '../../html.js';

const W = 760;
const H = 260;
const LEFT = 78;
const RIGHT = 12;
const TOP = 40;
const BOTTOM = 34;
const UP_COLOUR = '#1d6b2f';
const DOWN_COLOUR = '#b3261e';

/** A round upper bound for the axis in binary units: 1, 2, 2.5 or 5 times a power of ten of KiB, MiB, ... */
function niceMax(v: number): number {
  if (v <= 0) return 1024;
  let unit = 1;
  while (v / unit >= 1000 && unit < 1024 ** 5) unit *= 1024;
  const m = v / unit;
  const exp = Math.pow(10, Math.floor(Math.log10(m)));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * exp >= m) return k * exp * unit;
  return 10 * exp * unit;
}

function dayLabel(ctx: Pick<RequestContext, 'locale'>, day: number): string {
  return new Date(day * 86400 * 1000).toLocaleDateString(ctx.locale === 'fr' ? 'fr-FR' : 'en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

function n(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

export interface ChartText {
  title: string;
  /** A sentence summing up the chart (also the <img>'s alt text). */
  summary: string;
}

export function chartText(ctx: Pick<RequestContext, 't' | 'locale'>, username: string, days: readonly DayTraffic[]): ChartText {
  const up = days.reduce((a, d) => a + d.uploaded, 0);
  const down = days.reduce((a, d) => a + d.downloaded, 0);
  return {
    title: ctx.t('members.chart.title', { name: username, days: days.length }),
    summary: ctx.t('members.chart.summary', {
      name: username,
      days: days.length,
      up: formatSize(ctx.t, ctx.locale, up),
      down: formatSize(ctx.t, ctx.locale, down),
    }),
  };
}

export function trafficChartSvg(ctx: Pick<RequestContext, 't' | 'locale'>, username: string, days: readonly DayTraffic[]): string {
  const e = escapeHtml;
  const { title, summary } = chartText(ctx, username, days);
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const max = niceMax(Math.max(0, ...days.map((d) => Math.max(d.uploaded, d.downloaded))));
  const slot = plotW / Math.max(1, days.length);
  const bar = Math.max(1, (slot - 2) / 2);
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" font-family="sans-serif" font-size="11">`,
    `<title id="chart-title">${e(title)}</title>`,
    `<desc id="chart-desc">${e(summary)}</desc>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
  );
  // Legend.
  out.push(
    `<g class="legend">`,
    `<rect x="${LEFT}" y="12" width="12" height="12" fill="${UP_COLOUR}"/>`,
    `<text x="${LEFT + 18}" y="22" fill="#222222">${e(ctx.t('common.uploaded'))}</text>`,
    `<rect x="${LEFT + 130}" y="12" width="12" height="12" fill="${DOWN_COLOUR}"/>`,
    `<text x="${LEFT + 148}" y="22" fill="#222222">${e(ctx.t('common.downloaded'))}</text>`,
    `</g>`,
  );
  // Y axis: grid lines and labels at 0, 1/2 and the maximum.
  out.push(`<g class="y-axis">`);
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    const yy = n(y(v));
    out.push(
      `<line x1="${LEFT}" y1="${yy}" x2="${W - RIGHT}" y2="${yy}" stroke="#dddddd" stroke-width="1"/>`,
      `<text x="${LEFT - 6}" y="${n(y(v) + 4)}" text-anchor="end" fill="#444444">${e(formatSize(ctx.t, ctx.locale, Math.round(v)))}</text>`,
    );
  }
  out.push(`</g>`);
  // Bars, each with a tooltip title.
  out.push(`<g class="bars">`);
  days.forEach((d, i) => {
    const x0 = LEFT + i * slot + 1;
    const label = dayLabel(ctx, d.day);
    const tip = ctx.t('members.chart.bar', {
      day: label,
      up: formatSize(ctx.t, ctx.locale, d.uploaded),
      down: formatSize(ctx.t, ctx.locale, d.downloaded),
    });
    const hUp = (d.uploaded / max) * plotH;
    const hDown = (d.downloaded / max) * plotH;
    out.push(
      `<g><title>${e(tip)}</title>`,
      `<rect x="${n(x0)}" y="${n(TOP + plotH - hUp)}" width="${n(bar)}" height="${n(hUp)}" fill="${UP_COLOUR}"/>`,
      `<rect x="${n(x0 + bar)}" y="${n(TOP + plotH - hDown)}" width="${n(bar)}" height="${n(hDown)}" fill="${DOWN_COLOUR}"/>`,
      `</g>`,
    );
  });
  out.push(`</g>`);
  // X axis: a date label every 5 days and on the last day.
  out.push(`<g class="x-axis">`, `<line x1="${LEFT}" y1="${TOP + plotH}" x2="${W - RIGHT}" y2="${TOP + plotH}" stroke="#888888" stroke-width="1"/>`);
  days.forEach((d, i) => {
    if (i % 5 !== 0 && i !== days.length - 1) return;
    out.push(`<text x="${n(LEFT + i * slot + slot / 2)}" y="${H - BOTTOM + 16}" text-anchor="middle" fill="#444444">${e(dayLabel(ctx, d.day))}</text>`);
  });
  out.push(`</g>`, `</svg>`);
  return out.join('\n');
}
