/**
 * The /api/v1 error handler on its own (a bare Fastify scope): unexpected exceptions become a
 * generic 500 `internal` (logged, their text not sent), Fastify's client errors keep their status,
 * validation errors name the parameter, and the not-found handler answers JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { installErrorHandler, installNotFoundHandler, validationMessage } from '../../src/api/v1/errors.js';
import type { Site } from '../../src/site/site.js';

const site = { config: { api: { rate_window: 60 } } } as unknown as Site;

async function app() {
  const logged: unknown[] = [];
  const a = Fastify({ logger: { level: 'error', stream: { write: (line: string) => logged.push(JSON.parse(line)) } } });
  installErrorHandler(a, site);
  await a.register(
    async (v1) => {
      installNotFoundHandler(v1);
      v1.get('/boom', async () => {
        throw new Error('database password is hunter2');
      });
      v1.get('/teapot', async () => {
        throw Object.assign(new Error('I am a teapot'), { statusCode: 418 });
      });
      v1.get('/q', { schema: { querystring: { type: 'object', required: ['n'], properties: { n: { type: 'integer', maximum: 5 } } } } }, async () => ({ ok: true }));
      v1.post('/json', async () => ({ ok: true }));
    },
    { prefix: '/api/v1' },
  );
  return { a, logged };
}

describe('/api/v1 errors', () => {
  it('500 internal with a generic message; the exception is logged, not sent', async () => {
    const { a, logged } = await app();
    const r = await a.inject('/api/v1/boom');
    assert.equal(r.statusCode, 500);
    assert.deepEqual(r.json(), { error: { code: 'internal', message: 'Internal server error.' } });
    assert.ok(!r.body.includes('hunter2'), 'the exception text is not sent');
    assert.ok(JSON.stringify(logged).includes('hunter2'), 'it is logged');
    await a.close();
  });

  it('client errors keep their status; bad JSON is 400; validation names the parameter; unknown routes are 404', async () => {
    const { a } = await app();
    const tea = await a.inject('/api/v1/teapot');
    assert.equal(tea.statusCode, 418);
    assert.equal(tea.json().error.code, 'bad_request');
    const json = await a.inject({ method: 'POST', url: '/api/v1/json', headers: { 'content-type': 'application/json' }, payload: '{nope' });
    assert.equal(json.statusCode, 400);
    assert.equal(json.json().error.code, 'bad_request');
    const missing = await a.inject('/api/v1/q');
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.message, 'Missing query parameter "n".');
    assert.deepEqual(missing.json().error.details, [{ field: 'n', code: 'invalid', message: 'Missing query parameter "n".' }]);
    const big = await a.inject('/api/v1/q?n=9');
    assert.equal(big.json().error.message, 'Invalid query parameter "n": must be <= 5.');
    const nf = await a.inject('/api/v1/nothing?apikey=secret');
    assert.equal(nf.statusCode, 404);
    assert.deepEqual(nf.json(), { error: { code: 'not_found', message: 'No such API route: GET /api/v1/nothing.' } });
    await a.close();
  });

  it('validationMessage: enum values, term lists, nested paths', () => {
    assert.deepEqual(validationMessage('querystring', [{ instancePath: '/sort', keyword: 'enum', params: { allowedValues: ['a', 'b'] }, message: 'x' }]), {
      field: 'sort',
      message: 'Invalid query parameter "sort": must be one of a, b.',
    });
    assert.equal(validationMessage('querystring', [{ instancePath: '/terms/0', keyword: 'pattern', params: {}, message: 'x' }]).message, 'Invalid query parameter "terms": must be term ids separated by commas.');
    assert.equal(validationMessage('params', [{ instancePath: '/id', keyword: 'type', params: {}, message: 'must be integer' }]).message, 'Invalid path parameter "id": must be integer.');
  });
});
