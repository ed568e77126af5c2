import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayRequest, GatewayResponse, Next } from './pipeline.js';
import { makeProblem, ProblemError } from './problems.js';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The key a request presents: X-API-Key, or an RFC 6750 bearer token (the scheme name is case-insensitive). */
export function presentedKey(req: GatewayRequest): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = req.headers.authorization;
  const bearer = authorization ? /^Bearer +([^\s]+)$/i.exec(authorization) : null;
  return bearer?.[1];
}

export interface ApiKeyGuard {
  /** Checks the presented key. Success names the key (res.locals.apiKeyId); failure is recorded, not thrown yet. */
  identify(req: GatewayRequest, res: GatewayResponse, next: Next): void;
  /** Answers 401 for a request identify() refused. Between the two the rate limiter runs, so refused requests spend
   * their address's budget: without that, key guessing would be bounded by nothing but bandwidth. */
  reject(req: GatewayRequest, res: GatewayResponse, next: Next): void;
}

/**
 * Only SHA-256 hashes of the keys are configured, so a leaked environment does not leak usable keys. The presented
 * key is hashed and compared with every configured hash in constant time, without stopping at the first match, so
 * the response time says nothing about which or how many hashes exist.
 */
/** The 401's detail sentences (also the OpenAPI document's examples). */
export const AUTH_FAILURES = {
  missing: 'Send an API key in the X-API-Key header or as Authorization: Bearer <key>.',
  invalid: 'The API key is not valid.',
} as const;

export function createApiKeyAuth(hashesHex: readonly string[]): ApiKeyGuard {
  const hashes = hashesHex.map((hex) => Buffer.from(hex.toLowerCase(), 'hex'));
  const unauthorized = (detail: string) =>
    new ProblemError(makeProblem('unauthorized', 401, detail), {
      'WWW-Authenticate': 'Bearer realm="prediction-gateway"',
    });

  return {
    identify(req, res, next) {
      const key = presentedKey(req);
      if (key === undefined) {
        res.locals['authFailure'] = AUTH_FAILURES.missing;
        next();
        return;
      }
      const digest = createHash('sha256').update(key, 'utf8').digest();
      let matched = -1;
      hashes.forEach((hash, i) => {
        if (timingSafeEqual(hash, digest) && matched === -1) matched = i;
      });
      if (matched === -1) res.locals['authFailure'] = AUTH_FAILURES.invalid;
      // A short, non-secret identity for rate limits and logs: a prefix of the hash, never the key.
      else res.locals['apiKeyId'] = hashesHex[matched]!.slice(0, 12).toLowerCase();
      next();
    },
    reject(_req, res, next) {
      const failure = res.locals['authFailure'] as string | undefined;
      if (failure !== undefined) throw unauthorized(failure);
      next();
    },
  };
}
