/**
 * Refused email domains (table refused_email_domain), edited by administrators and enforced at
 * sign-up, application, invitation and email change. Refusing "example.com" also refuses its
 * subdomains ("mail.example.com"). Domains are stored in lower case, internationalised ones in
 * their ASCII (punycode) form, as they are compared.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

const DOMAIN_RE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A domain as typed by an administrator ("@Example.COM", "*.example.com") in stored form, or null. */
export function normaliseDomain(input: string): string | null {
  let d = input.trim().toLowerCase();
  if (d.startsWith('@')) d = d.slice(1);
  if (d.startsWith('*.')) d = d.slice(2);
  d = d.replace(/\.$/, '');
  if (d === '') return null;
  if (!/^[\x20-\x7e]*$/.test(d)) {
    try {
      d = new URL(`http://${d}/`).hostname;
    } catch {
      return null;
    }
  }
  return DOMAIN_RE.test(d) ? d : null;
}

/** The domain of an address, normalised, or null. */
export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at < 0) return null;
  return normaliseDomain(email.slice(at + 1));
}

/** The domain and each of its parents: a.b.example.com, b.example.com, example.com, com. */
function domainAndParents(domain: string): string[] {
  const labels = domain.split('.');
  return labels.map((_, i) => labels.slice(i).join('.'));
}

/** The refused domain an address falls under, or null when it is allowed. */
export async function refusedDomainOf(db: Kysely<Database>, email: string): Promise<string | null> {
  const domain = emailDomain(email);
  if (!domain) return null;
  const hit = await db
    .selectFrom('refused_email_domain')
    .select('domain')
    .where('domain', 'in', domainAndParents(domain))
    .orderBy('domain')
    .executeTakeFirst();
  return hit?.domain ?? null;
}

export async function listRefusedDomains(db: Kysely<Database>) {
  return db.selectFrom('refused_email_domain').selectAll().orderBy('domain').execute();
}

/** Adds a domain (already normalised); false when it was there. */
export async function addRefusedDomain(db: Kysely<Database>, domain: string, now: number): Promise<boolean> {
  const r = await db
    .insertInto('refused_email_domain')
    .values({ domain, created_at: now })
    .onConflict((oc) => oc.column('domain').doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function removeRefusedDomain(db: Kysely<Database>, domain: string): Promise<boolean> {
  const r = await db.deleteFrom('refused_email_domain').where('domain', '=', domain).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
