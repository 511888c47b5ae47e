/**
 * First run: /setup/<token> (the one-time link logged at start while no administrator exists)
 * creates the first administrator and logs them in. An unknown, used or expired token, or an
 * administrator already there, gives an error page.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { countAdmins, createUser, DuplicateUserError } from '../../../db/user.repository.js';
import { inTransaction } from '../../../db/util.js';
import { needsSetup } from '../../../site/accounts/setup.js';
import { consumeAuthToken, findAuthToken } from '../../../site/accounts/tokens.js';
import { hashPassword } from '../../../site/passwords.js';
import type { Site } from '../../../site/site.js';
import { setFlash, type RequestContext } from '../../context.js';
import { html } from '../../html.js';
import { csrfField, errorPage, sendPage } from '../../layout.js';
import {
  bodyOf,
  emailError,
  errorSummary,
  field,
  hasErrors,
  newPasswordErrors,
  normaliseEmail,
  startSession,
  str,
  takenErrors,
  usernameError,
  type FieldErrors,
} from './shared.js';

class SetupUnavailable extends Error {
  constructor(readonly reason: 'token' | 'done') {
    super(reason);
  }
}

function setupPage(reply: FastifyReply, ctx: RequestContext, token: string, f: { username: string; email: string; errors: FieldErrors }, status = 200): FastifyReply {
  const { t } = ctx;
  const body = html`<h1>${t('accounts.setup.title')}</h1>
${errorSummary(ctx, f.errors)}
<p>${t('accounts.setup.intro')}</p>
<form method="post" action="/setup/${token}" class="form" novalidate>
  ${csrfField(ctx)}
  ${field(ctx, { name: 'username', label: t('accounts.field.username'), value: f.username, error: f.errors.username, hint: t('accounts.username.hint'), autocomplete: 'username', required: true, minlength: 3, maxlength: 32 })}
  ${field(ctx, { name: 'email', type: 'email', label: t('accounts.field.email'), value: f.email, error: f.errors.email, autocomplete: 'email', required: true, maxlength: 254 })}
  ${field(ctx, { name: 'password', type: 'password', label: t('accounts.field.password'), error: f.errors.password, hint: t('accounts.password.hint'), autocomplete: 'new-password', required: true, minlength: 10 })}
  ${field(ctx, { name: 'password_confirm', type: 'password', label: t('accounts.field.password_confirm'), error: f.errors.password_confirm, autocomplete: 'new-password', required: true })}
  <p><button type="submit">${t('accounts.setup.submit')}</button></p>
</form>`;
  void reply.header('Cache-Control', 'no-store');
  return sendPage(reply, ctx, { title: t('accounts.setup.title'), body }, status);
}

function unavailable(reply: FastifyReply, ctx: RequestContext, reason: 'token' | 'done'): FastifyReply {
  return reason === 'done'
    ? errorPage(reply, ctx, 409, ctx.t('accounts.setup.not_needed'))
    : errorPage(reply, ctx, 404, ctx.t('accounts.setup.invalid'));
}

export function setupRoutes(app: FastifyInstance, site: Site): void {
  /** Why the setup cannot go on, or null. */
  const check = async (token: string): Promise<'token' | 'done' | null> => {
    if (!(await findAuthToken(site.db, token, 'setup', site.now()))) return 'token';
    if (!(await needsSetup(site))) return 'done';
    return null;
  };

  app.get<{ Params: { token: string } }>('/setup/:token', async (req, reply) => {
    const problem = await check(req.params.token);
    if (problem) return unavailable(reply, req.ctx, problem);
    return setupPage(reply, req.ctx, req.params.token, { username: '', email: '', errors: {} });
  });

  app.post<{ Params: { token: string } }>('/setup/:token', async (req, reply) => {
    const ctx = req.ctx;
    const token = req.params.token;
    const problem = await check(token);
    if (problem) return unavailable(reply, ctx, problem);
    const b = bodyOf(req);
    const username = str(b, 'username', 100).trim();
    const email = normaliseEmail(str(b, 'email', 300));
    const password = str(b, 'password');
    const errors: FieldErrors = {
      username: usernameError(username),
      email: emailError(email),
      ...newPasswordErrors(password, str(b, 'password_confirm'), username),
    };
    await takenErrors(site, username, email, errors);
    if (hasErrors(errors)) return setupPage(reply, ctx, token, { username, email, errors }, 400);
    const hash = await hashPassword(password);
    let id: number;
    try {
      // The token is used and the administrator created together, or neither.
      id = await inTransaction(site.db, async (trx) => {
        if (!(await consumeAuthToken(trx, token, 'setup', site.now()))) throw new SetupUnavailable('token');
        if ((await countAdmins(trx, { enabledOnly: true })) > 0) throw new SetupUnavailable('done');
        return (await createUser(trx, { username, email, passwordHash: hash, role: 'admin', now: site.now() })).id;
      });
    } catch (err) {
      if (err instanceof SetupUnavailable) return unavailable(reply, ctx, err.reason);
      if (err instanceof DuplicateUserError) {
        errors[err.field] = err.field === 'username' ? 'accounts.username.taken' : 'accounts.email.taken';
        return setupPage(reply, ctx, token, { username, email, errors }, 400);
      }
      throw err;
    }
    site.log.info({ userId: id }, 'first administrator created through the setup link');
    await site.tracker.userChanged(id);
    await startSession(site, req, reply, id, false);
    setFlash(reply, 'accounts.setup.welcome');
    return reply.redirect('/account', 303);
  });
}
