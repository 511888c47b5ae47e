/**
 * Outgoing mail. With `mail.smtp_url` set, mail goes through SMTP (nodemailer). Without it, each
 * message is written to `<data_dir>/outbox/` as an .eml file and its links are logged, so that a
 * fresh install can reset a password with no mail server (documented in docs/configuration.md;
 * with SMTP configured, links never reach the logs).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from '../shared/log.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

export function createMailer(opts: { smtpUrl: string; from: string; outboxDir: string; log: Logger }): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      async send(msg) {
        await transport.sendMail({ from: opts.from, to: msg.to, subject: msg.subject, text: msg.text });
        opts.log.info({ subject: msg.subject }, 'mail sent');
      },
    };
  }
  let seq = 0;
  return {
    async send(msg) {
      await mkdir(opts.outboxDir, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${++seq}.eml`;
      const file = join(opts.outboxDir, name);
      const eml = [
        `From: ${opts.from}`,
        `To: ${msg.to}`,
        `Subject: ${msg.subject}`,
        `Date: ${new Date().toUTCString()}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        msg.text,
      ].join('\r\n');
      await writeFile(file, eml, { mode: 0o600 });
      const links = msg.text.match(/https?:\/\/\S+/g) ?? [];
      opts.log.info({ file, subject: msg.subject, links }, 'mail written to the outbox (no SMTP server configured)');
    },
  };
}
