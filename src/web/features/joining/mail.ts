/**
 * The joining mails, written in the recipient's language: the email-verification link, the
 * invitation, and the decision on an application (with the staff's note).
 */
import type { Locale, User } from '../../../db/schema.js';
import { verificationLink } from '../../../site/joining/verify.js';
import type { Site } from '../../../site/site.js';
import { translator } from '../../context.js';

/** Sends a verification link for the member's address, when verification is on and it is unverified. */
export async function sendVerificationMail(site: Site, user: User, locale: Locale): Promise<boolean> {
  if (!site.config.joining.verify_email || !user.email || user.email_verified === 1) return false;
  const link = await verificationLink(site, user);
  if (!link) return false;
  const t = translator(user.locale ?? locale);
  const name = site.config.site.name;
  await site.mailer.send({
    to: user.email,
    subject: t('joining.mail.verify.subject', { site: name }),
    text: t('joining.mail.verify.body', { site: name, username: user.username, link, hours: Math.round(site.config.joining.verify_ttl / 3600) }),
  });
  return true;
}

export async function sendInviteMail(site: Site, to: string, inviter: User, code: string, expires: number, locale: Locale): Promise<void> {
  const t = translator(locale);
  const name = site.config.site.name;
  const link = `${site.publicUrl}/register/invite/${code}`;
  const days = Math.max(1, Math.round((expires - site.now()) / 86400));
  await site.mailer.send({
    to,
    subject: t('joining.mail.invite.subject', { site: name, username: inviter.username }),
    text: t('joining.mail.invite.body', { site: name, username: inviter.username, link, days }),
  });
}

export async function sendApplicationMail(
  site: Site,
  o: { to: string; username: string; accepted: boolean; note: string | null; locale: Locale; verifyLink: string | null },
): Promise<void> {
  const t = translator(o.locale);
  const name = site.config.site.name;
  const note = o.note ? t('joining.mail.application.note', { note: o.note }) : '';
  if (o.accepted) {
    const verify = o.verifyLink ? t('joining.mail.application.verify', { link: o.verifyLink }) : '';
    await site.mailer.send({
      to: o.to,
      subject: t('joining.mail.application.accepted.subject', { site: name }),
      text: t('joining.mail.application.accepted.body', { site: name, username: o.username, login: `${site.publicUrl}/login`, note, verify }),
    });
  } else {
    await site.mailer.send({
      to: o.to,
      subject: t('joining.mail.application.rejected.subject', { site: name }),
      text: t('joining.mail.application.rejected.body', { site: name, username: o.username, note }),
    });
  }
}
