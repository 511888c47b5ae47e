/**
 * Errors of /api/v1: every failure is `{ "error": { "code", "message", "details"? } }` with its
 * HTTP status. ApiError carries its own; Fastify's validation errors become 400 `bad_request`
 * naming the parameter; oversized bodies 413 `payload_too_large`; other client errors keep their
 * status; anything else is logged and answered 500 `internal` with a generic message (the
 * exception's text may hold internals).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Site } from '../../site/site.js';
import { ApiError, type ApiErrorCode } from '../http.js';

export interface ErrorBodyValue {
  error: { code: ApiErrorCode; message: string; details?: unknown };
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const PART_NAMES: Record<string, string> = { querystring: 'query parameter', params: 'path parameter', body: 'body field', headers: 'header' };

/** `Invalid query parameter "limit": must be <= 200` from Fastify's validation error. */
export function validationMessage(context: string | undefined, list: readonly AjvError[]): { field: string; message: string } {
  const first = list[0] ?? {};
  const path = (first.instancePath ?? '').split('/').filter((x) => x !== '');
  let field = path[0] ?? '';
  if (first.keyword === 'required' && typeof first.params?.missingProperty === 'string') field = first.params.missingProperty;
  if (first.keyword === 'additionalProperties' && typeof first.params?.additionalProperty === 'string') field = first.params.additionalProperty;
  const part = PART_NAMES[context ?? ''] ?? 'parameter';
  let detail = first.message ?? 'is not valid';
  if (first.keyword === 'enum' && Array.isArray(first.params?.allowedValues)) detail = `must be one of ${first.params.allowedValues.map(String).join(', ')}`;
  if (first.keyword === 'pattern' && field === 'terms') detail = 'must be term ids separated by commas';
  if (first.keyword === 'required') return { field, message: `Missing ${part} "${field}".` };
  return { field, message: field ? `Invalid ${part} "${field}": ${detail}.` : `Invalid ${part}: ${detail}.` };
}

function send(reply: FastifyReply, status: number, code: ApiErrorCode, message: string, details?: unknown): FastifyReply {
  const body: ErrorBodyValue = { error: { code, message } };
  if (details !== undefined) body.error.details = details;
  return reply.code(status).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(body);
}

const CLIENT_CODES: Record<number, ApiErrorCode> = { 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'payload_too_large', 429: 'rate_limited' };

/** Installs the JSON error and not-found handlers on the scope (the not-found one needs a prefix). */
export function installErrorHandler(scope: FastifyInstance, site: Site): void {
  scope.setErrorHandler(async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (reply.sent) return reply;
    if (err instanceof ApiError) {
      // The limits count within a window: waiting one window is always enough.
      if (err.status === 429) void reply.header('Retry-After', String(site.config.api.rate_window));
      return send(reply, err.status, err.code, err.message, err.details);
    }
    if (err.validation) {
      const v = validationMessage(err.validationContext, err.validation as AjvError[]);
      return send(reply, 400, 'bad_request', v.message, [{ field: v.field, code: 'invalid', message: v.message }]);
    }
    const status = err.statusCode ?? 500;
    if (status === 413 || err.code === 'FST_REQ_FILE_TOO_LARGE' || err.code === 'FST_FILES_LIMIT' || err.code === 'FST_PARTS_LIMIT' || err.code === 'FST_FIELDS_LIMIT') {
      return send(reply, 413, 'payload_too_large', 'The request is too large.');
    }
    if (status >= 400 && status < 500) return send(reply, status, CLIENT_CODES[status] ?? 'bad_request', err.message || 'Bad request.');
    req.log.error({ err }, 'API request failed');
    return send(reply, 500, 'internal', 'Internal server error.');
  });
}

export function installNotFoundHandler(scope: FastifyInstance): void {
  scope.setNotFoundHandler(async (req, reply) => send(reply, 404, 'not_found', `No such API route: ${req.method} ${req.url.split('?')[0]}.`));
}
