import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';

/** Stub: filled in by the #5 work. */
export function routes(_app: FastifyInstance, _site: Site): void {}
