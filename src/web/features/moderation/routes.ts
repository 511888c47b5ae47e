/** The moderation pages (to be filled in). */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../../../site/site.js';

export function routes(_app: FastifyInstance, _site: Site): void {}
