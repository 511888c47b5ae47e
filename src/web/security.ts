/**
 * Security headers on every response of the website. The Content-Security-Policy allows no inline
 * script or style and no third-party origin: pages load /static/ assets only. Images may be
 * `data:` (the TOTP QR code) and, when `web.external_images` is on, any https: image in
 * descriptions.
 */
import type { FastifyInstance } from 'fastify';
import type { Site } from '../site/site.js';

export function installSecurityHeaders(app: FastifyInstance, site: Site): void {
  const img = site.config.web.external_images ? "img-src 'self' data: https:" : "img-src 'self' data:";
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    img,
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  const https = site.publicUrl.startsWith('https:');
  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('Content-Security-Policy', csp);
    void reply.header('X-Content-Type-Options', 'nosniff');
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Referrer-Policy', 'same-origin');
    void reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    void reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
    if (https) void reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    return payload;
  });
}
