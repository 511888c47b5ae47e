import type { FastifyInstance } from 'fastify';
import type { Site } from '../../site/site.js';

/** Stub: filled in by the t411 API work (#5). */
export function t411Routes(_scope: FastifyInstance, _site: Site): void {}
