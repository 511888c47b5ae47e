import type { FastifyInstance } from 'fastify';
import type { Site } from '../../site/site.js';

/** Stub: filled in by the v1 API work (#5). */
export function v1Routes(_scope: FastifyInstance, _site: Site): void {}
