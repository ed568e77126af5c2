import { isUtf8 } from 'node:buffer';
import express from 'express';
import type { GatewayRequest, GatewayResponse, Middleware, Next } from './pipeline.js';
import { makeProblem, ProblemError } from './problems.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function requireJsonContentType(req: GatewayRequest, _res: GatewayResponse, next: Next): void {
  const header = req.headers['content-type'] ?? '';
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(header)?.[1]?.toLowerCase();
  // Media types are case-insensitive (RFC 9110 8.3.1); the contract accepts exactly application/json.
  const mediaType = header.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new ProblemError(makeProblem('unsupported-media-type', 415, 'Send the body as Content-Type: application/json (UTF-8).'), {
      'Accept-Post': 'application/json',
    });
  }
  next();
}

function parseJson(req: GatewayRequest, _res: GatewayResponse, next: Next): void {
  const raw: unknown = req.body;
  // Parser messages quote the offending text, which could be a feature value: never pass them on.
  const malformed = () => new ProblemError(makeProblem('malformed-json', 400, 'The body is not valid UTF-8 JSON.'));
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw malformed();
  // isUtf8 + toString rather than a fatal TextDecoder: the same strictness (and a leading BOM is dropped, as
  // TextDecoder does), at a fraction of the cost per request.
  if (!isUtf8(raw)) throw malformed();
  const text = raw.subarray(0, 3).equals(BOM) ? raw.toString('utf8', 3) : raw.toString('utf8');
  try {
    req.body = JSON.parse(text);
  } catch {
    throw malformed();
  }
  next();
}

/**
 * express.json would decode invalid UTF-8 into U+FFFD silently and would echo parser messages; reading the raw
 * bytes ourselves keeps the contract's 400/413/415 distinctions exact. The size limit applies after gzip inflation.
 * body-parser (express.raw) is connect-style, so the same three steps run on the predict fast path.
 */
export function jsonBody(maxBytes: number): Middleware[] {
  return [requireJsonContentType, express.raw({ type: () => true, limit: maxBytes }) as Middleware, parseJson];
}

/** body-parser's errors, as contract problems; anything else is not a body problem. */
export function bodyErrorToProblem(err: unknown): ProblemError | undefined {
  // A body sent as gzip/deflate/br that does not inflate: body-parser passes zlib's error on as a 400 without a
  // `type`, which would otherwise end up as a 500 internal-error (and an error log line) for a client mistake.
  // (zlib codes: Z_DATA_ERROR, Z_BUF_ERROR, ...; brotli: ERR__ERROR_FORMAT_...)
  const { code, status } = (err ?? {}) as { code?: unknown; status?: unknown };
  if (status === 400 && typeof code === 'string' && /^(Z_|ERR__ERROR_|ERR_BROTLI)/.test(code)) {
    return new ProblemError(makeProblem('malformed-json', 400, 'The body could not be decompressed as its Content-Encoding says.'));
  }
  const type = (err as { type?: unknown })?.type;
  if (typeof type !== 'string') return undefined;
  switch (type) {
    case 'entity.too.large':
      return new ProblemError(makeProblem('body-too-large', 413, 'The body is larger than this model accepts; send fewer rows per request.'));
    case 'encoding.unsupported':
      return new ProblemError(makeProblem('unsupported-media-type', 415, 'The Content-Encoding is not supported; use gzip, deflate or none.'));
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return new ProblemError(makeProblem('malformed-json', 400, 'The body was not received completely.'));
    default:
      return undefined;
  }
}
