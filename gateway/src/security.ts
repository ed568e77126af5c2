import cors from 'cors';
import type { GatewayRequest, GatewayResponse, Middleware, Next } from './pipeline.js';

// Hand-set rather than helmet: this service answers JSON plus one docs page, and the few headers that matter for that
// are clearer stated here than as helmet's HTML-site defaults minus exceptions.
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function securityHeaders(_req: GatewayRequest, res: GatewayResponse, next: Next): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', API_CSP);
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  // Prediction answers are per request; no shared cache should keep them.
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/**
 * Strict-Transport-Security on every answer when the gateway is served over HTTPS (HSTS_MAX_AGE, set by the
 * generated .ebextensions/02-network.config with a certificate): browsers then never call it over plain HTTP again.
 */
export function strictTransportSecurity(maxAgeSeconds: number): Middleware | undefined {
  if (maxAgeSeconds <= 0) return undefined;
  const value = `max-age=${maxAgeSeconds}`;
  return (_req, res, next) => {
    res.setHeader('Strict-Transport-Security', value);
    next();
  };
}

export const EXPOSED_HEADERS = ['X-Request-Id', 'X-Model-Version', 'RateLimit', 'RateLimit-Policy', 'Retry-After'];

/** Off (no CORS headers at all) unless origins are listed; browsers then only allow same-origin calls. */
export function corsAllowList(origins: readonly string[]): Middleware | undefined {
  if (origins.length === 0) return undefined;
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  // The cors package is connect-style (Node's req/res only), so it runs unchanged on the predict fast path.
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin.toLowerCase())),
    methods: ['GET', 'POST'],
    allowedHeaders: ['Content-Type', 'X-API-Key', 'Authorization', 'X-Request-Id'],
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
}
