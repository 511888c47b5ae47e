import type { FastifyInstance } from 'fastify';
import type { Site } from '../../site/site.js';

/** Stub: filled in by the unit3d API work (#5). */
export function unit3dRoutes(_scope: FastifyInstance, _site: Site): void {}
