/**
 * Newznab errors, as Torznab clients read them: `<error code="..." description="..."/>`.
 *
 *   100 Incorrect user credentials   (missing, unknown, revoked or expired API key)
 *   101 Account suspended            (the member's account is disabled)
 *   102 Insufficient privileges      (key without the read scope, banned address, email to verify)
 *   200 Missing parameter            201 Incorrect parameter
 *   202 No such function             203 Function not available
 *   300 No such item                 500 Request limit reached
 *   900 Unknown error
 *
 * Newznab answers protocol errors with HTTP 200 and the error document, and that is what the
 * clients expect on the API path (Sonarr, Radarr, Prowlarr parse the body; they recognise codes
 * 100-199 as a bad key and the exact description "Request limit reached" as rate limiting).
 * The download link answers with a real HTTP status instead (a torrent client reads the status).
 */
import { ApiError } from '../http.js';
import { el, xmlDocument } from './xml.js';

export const NEWZNAB_DESCRIPTIONS = {
  100: 'Incorrect user credentials',
  101: 'Account suspended',
  102: 'Insufficient privileges/not authorized',
  200: 'Missing parameter',
  201: 'Incorrect parameter',
  202: 'No such function',
  203: 'Function not available',
  300: 'No such item',
  500: 'Request limit reached',
  900: 'Unknown error',
} as const;

export type NewznabCode = keyof typeof NEWZNAB_DESCRIPTIONS;

export class TorznabError extends Error {
  constructor(
    readonly code: NewznabCode,
    /** Added after the standard description ("Incorrect parameter: limit"). */
    readonly detail: string | null = null,
    /** The HTTP status of the download route (the API path always answers 200). */
    readonly httpStatus = 400,
  ) {
    super(detail ? `${NEWZNAB_DESCRIPTIONS[code]}: ${detail}` : NEWZNAB_DESCRIPTIONS[code]);
  }
}

/** The Newznab error of an API error (authentication, scope, rate limit, not found...). */
export function fromApiError(e: ApiError): TorznabError {
  switch (e.code) {
    case 'unauthorized':
    case 'token_expired':
      return new TorznabError(100, null, e.status);
    case 'account_disabled':
      return new TorznabError(101, null, 403);
    case 'forbidden':
    case 'insufficient_scope':
    case 'email_unverified':
      return new TorznabError(102, e.message, e.status);
    case 'rate_limited':
      // The exact standard description: clients compare it.
      return new TorznabError(500, null, 429);
    case 'not_found':
      return new TorznabError(300, null, 404);
    case 'bad_request':
    case 'validation_failed':
      return new TorznabError(201, e.message, 400);
    default:
      return new TorznabError(900, null, e.status >= 400 ? e.status : 500);
  }
}

export function errorDocument(e: TorznabError): string {
  return xmlDocument(el('error', { code: e.code, description: e.message }));
}
