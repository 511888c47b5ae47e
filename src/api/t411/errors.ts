/**
 * T411's error answers: `{"error":"<message>","code":<int>}`, sent with HTTP 200 as T411 did
 * (its clients look for an `error` key, not at the status).
 *
 * T411's own codes (the first generation, the one recorded in 2015; later servers answered 1301,
 * 1401, 1402, 1403 for the torrent and bookmark errors):
 *   101 user not found · 103 account disabled · 107 wrong password · 201 token expired ·
 *   202 invalid token · 301 torrent not found · 401 bookmark not found ·
 *   402 bookmark already exists · 403 internal error on bookmark save
 *
 * Essaim's additions, for what T411 had no code for:
 *   108 two-factor account: the account password is refused, a personal API token is the password
 *   901 too many requests (HTTP 429, with Retry-After) · 902 address banned (HTTP 403) ·
 *   903 email address not verified (downloads) · 904 malformed request (HTTP 400) ·
 *   905 unknown call (HTTP 404) · 999 internal error (HTTP 500)
 * T411's codes and 108 and 903 keep HTTP 200; the 9xx transport-level ones carry their status.
 */
export const T411_CODES = {
  userNotFound: 101,
  accountDisabled: 103,
  wrongPassword: 107,
  twoFactor: 108,
  tokenExpired: 201,
  invalidToken: 202,
  torrentNotFound: 301,
  bookmarkNotFound: 401,
  bookmarkExists: 402,
  bookmarkSaveFailed: 403,
  tooManyRequests: 901,
  addressBanned: 902,
  emailUnverified: 903,
  badRequest: 904,
  unknownCall: 905,
  internal: 999,
} as const;

export type T411Code = (typeof T411_CODES)[keyof typeof T411_CODES];

export class T411Error extends Error {
  constructor(
    readonly code: T411Code,
    message: string,
    /** HTTP status of the answer (T411 answered its errors with 200). */
    readonly status = 200,
    /** Seconds for a Retry-After header (rate limits). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export const userNotFound = () => new T411Error(T411_CODES.userNotFound, 'User not found');
export const torrentNotFound = () => new T411Error(T411_CODES.torrentNotFound, 'Torrent not found');
export const unknownCall = () => new T411Error(T411_CODES.unknownCall, 'Unknown API call', 404);
