/**
 * Pieces of the joining rules shown on pages of other features: the registration notice (open
 * window, next opening) on the login and sign-up pages, the refusal messages, the login captcha
 * field, and the email-verification notice of the account page and downloads.
 */
import type { User } from '../../../db/schema.js';
import type { Challenge } from '../../../site/joining/captcha.js';
import type { JoinRefusal, RegistrationStatus } from '../../../site/joining/rules.js';
import type { WindowOccurrence } from '../../../site/joining/schedule.js';
import { mustVerifyEmail } from '../../../site/joining/verify.js';
import type { RequestContext } from '../../context.js';
import { html, type Html } from '../../html.js';
import { csrfField } from '../../layout.js';
import type { MessageKey } from '../../messages.js';

export function refusalKey(r: JoinRefusal): MessageKey {
  return `joining.refused.${r}`;
}

function tag(ctx: RequestContext): string {
  return ctx.locale === 'fr' ? 'fr-FR' : 'en-GB';
}

/** A window edge as the words of a message: day, time and zone, in the window's own zone. */
export function windowWords(ctx: RequestContext, o: WindowOccurrence, at: number): { day: string; time: string; zone: string } {
  const d = new Date(at * 1000);
  const zone = o.window.zone;
  return {
    day: new Intl.DateTimeFormat(tag(ctx), { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long' }).format(d),
    time: new Intl.DateTimeFormat(tag(ctx), { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d),
    zone,
  };
}

/** The sentence about windows: open until when (and places left), or when the next one opens. */
export function registrationNotice(ctx: RequestContext, s: RegistrationStatus): Html {
  const { t } = ctx;
  if (s.window && (s.windowLeft === null || s.windowLeft > 0) && s.mode !== 'open') {
    const w = windowWords(ctx, s.window, s.window.end);
    return html`<p class="joining-notice" role="status">${t('joining.window.open_until', { time: w.time, zone: w.zone })}${s.windowLeft !== null ? html` ${t('joining.window.places_left', { n: s.windowLeft })}` : ''}</p>`;
  }
  if (s.mode !== 'open' && s.next) {
    const w = windowWords(ctx, s.next, s.next.start);
    return html`<p class="joining-notice">${t('joining.window.opens', { day: w.day, time: w.time, zone: w.zone })}</p>`;
  }
  return html``;
}

/** The captcha question and its answer field (inside the login form). */
export function captchaField(ctx: RequestContext, c: Challenge, error?: MessageKey): Html {
  const { t } = ctx;
  const question = t('joining.captcha.question', { a: c.a, op: t(`joining.captcha.op.${c.op}`), b: c.b });
  const described = error ? 'f-captcha-hint f-captcha-error' : 'f-captcha-hint';
  return html`<fieldset class="field captcha">
  <legend>${t('joining.captcha.legend')}</legend>
  <input type="hidden" name="captcha_token" value="${c.token}">
  <label for="f-captcha">${question}</label>
  <input id="f-captcha" name="captcha" type="text" inputmode="numeric" autocomplete="off" required maxlength="8"${error ? html` aria-invalid="true"` : ''} aria-describedby="${described}">
  <p class="hint" id="f-captcha-hint">${t('joining.captcha.hint')}</p>
  ${error ? html`<p class="field-error" id="f-captcha-error">${t(error)}</p>` : ''}
</fieldset>`;
}

/** The account page's notice while the member's address is unverified, with a button for a new link. */
export function verificationNotice(ctx: RequestContext, user: User): Html {
  if (!mustVerifyEmail(ctx.site, user)) return html``;
  const { t } = ctx;
  return html`<section class="panel joining-verify" aria-labelledby="h-verify">
<h2 id="h-verify">${t('joining.verify.notice.title')}</h2>
<p>${t('joining.verify.notice.text', { email: user.email ?? '' })}</p>
<form method="post" action="/verify-email/resend" class="inline">
  ${csrfField(ctx)}
  <button type="submit">${t('joining.verify.resend')}</button>
</form>
</section>`;
}
