/**
 * What the lawful services use of the Site (tests build it from a database, a configuration, a
 * fake tracker and a mail catcher).
 */
import type { Site } from '../site.js';

export type LawfulSite = Pick<Site, 'db' | 'config' | 'log' | 'now' | 'tracker' | 'mailer' | 'publicUrl'>;
