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

/**
 * Only SHA-256 hashes of the keys are configured, so a leaked environment does not leak usable keys. The presented
 * key is hashed and compared with every configured hash in constant time, without stopping at the first match, so
 * the response time says nothing about which or how many hashes exist.
 */
export function createApiKeyAuth(hashesHex: readonly string[]) {
  const hashes = hashesHex.map((hex) => Buffer.from(hex.toLowerCase(), 'hex'));
  const unauthorized = (detail: string) =>
    new ProblemError(makeProblem('unauthorized', 401, detail), { 'WWW-Authenticate': 'Bearer realm="prediction-gateway"' });

  return function requireApiKey(req: GatewayRequest, res: GatewayResponse, next: Next): void {
    const key = presentedKey(req);
    if (key === undefined) throw unauthorized('Send an API key in the X-API-Key header or as Authorization: Bearer <key>.');
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let matched = -1;
    hashes.forEach((hash, i) => {
      if (timingSafeEqual(hash, digest) && matched === -1) matched = i;
    });
    if (matched === -1) throw unauthorized('The API key is not valid.');
    // A short, non-secret identity for rate limits and logs: a prefix of the hash, never the key.
    res.locals['apiKeyId'] = hashesHex[matched]!.slice(0, 12).toLowerCase();
    next();
  };
}
