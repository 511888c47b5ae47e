/** First run: a one-time link that creates the first administrator. (To be filled in.) */
import type { Site } from '../site.js';

/** When no administrator exists, creates a one-time setup token and returns its link; else null. */
export async function firstRunSetupLink(_site: Site): Promise<string | null> {
  return null;
}
