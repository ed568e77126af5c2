import { isUtf8 } from 'node:buffer';
import express from 'express';
import { CONTRACT } from './contract.js';
import type { GatewayRequest, GatewayResponse, Middleware, Next } from './pipeline.js';
import { contractProblem, ProblemError } from './problems.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// Header syntax as docs/contract.md fixes it, so the Flask side can mirror it character for character: optional
// whitespace is space or tab only (RFC 9110 OWS), never the wider \s.
const CHARSET = /;[ \t]*charset[ \t]*=[ \t]*"?([^"; \t]+)/i;
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;
const UTF8_CHARSETS = new Set(['utf-8', 'utf8']);
/** identity (or no header), gzip and deflate (zlib): what both servers can inflate with their standard library. */
const ENCODINGS = new Set(['', 'identity', 'gzip', 'deflate']);

/** The media type before the first ';', without its OWS, lowercased (media types are case-insensitive). */
export function mediaTypeOf(header: string): string {
  return header.split(';')[0]!.replace(OWS_EDGES, '').toLowerCase();
}

/** The first charset parameter, lowercased; undefined when there is none. */
export function charsetOf(header: string): string | undefined {
  return CHARSET.exec(header)?.[1]?.toLowerCase();
}

export function isJsonContentType(header: string): boolean {
  const charset = charsetOf(header);
  return mediaTypeOf(header) === 'application/json' && (charset === undefined || UTF8_CHARSETS.has(charset));
}

function requireJsonContentType(req: GatewayRequest, _res: GatewayResponse, next: Next): void {
  if (!isJsonContentType(req.headers['content-type'] ?? '')) {
    throw new ProblemError(contractProblem('unsupported-media-type', 'unsupported-media-type'), {
      'Accept-Post': 'application/json',
    });
  }
  next();
}

/**
 * body-parser would also inflate br (and hand "gzip, gzip" to zlib as an unknown name); the contract accepts only
 * what Python's standard library inflates, so anything else is refused before a byte is read.
 */
function requireSupportedEncoding(req: GatewayRequest, _res: GatewayResponse, next: Next): void {
  // Most requests have no Content-Encoding at all: they cost one property read here.
  const header = req.headers['content-encoding'];
  if (header !== undefined && !ENCODINGS.has(header.replace(OWS_EDGES, '').toLowerCase())) {
    throw new ProblemError(contractProblem('unsupported-media-type', 'unsupported-encoding'), {
      'Accept-Encoding': 'gzip, deflate',
    });
  }
  next();
}

/**
 * Whether JSON text nests arrays and objects deeper than maxNestingDepth, counted on the characters: outside
 * strings `[` and `{` open a level, `]` and `}` close one; inside a string a backslash skips the next character.
 * On text rather than on a parsed value because it must also decide for text that does not parse (JSON.parse
 * gives up at the first syntax error, Python's json at its recursion limit): a body both too deep and malformed is
 * too deep on both servers. One loop, no recursion, so 200,000 levels cost nothing but the scan.
 */
export function nestsTooDeep(text: string, maxDepth: number = CONTRACT.maxNestingDepth): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** The 400 for JSON text that did not parse or did not validate and nests too deep; undefined when it does not. */
export function tooDeepProblem(text: string): ProblemError | undefined {
  return nestsTooDeep(text) ? new ProblemError(contractProblem('malformed-json', 'too-deep')) : undefined;
}

/** The request's JSON text, kept for the failure path (the nesting check); the success path never reads it. */
export const JSON_TEXT = Symbol('jsonText');
export type ParsedRequest = GatewayRequest & { [JSON_TEXT]?: string };

/** A check of the body (valid UTF-8) before it is decoded and parsed: the problem to answer, or undefined to go on. */
export type BodyCheck = (body: Buffer) => ProblemError | undefined;

const parseJson = (refuse: BodyCheck) =>
  function parseJson(req: GatewayRequest, _res: GatewayResponse, next: Next): void {
    const raw: unknown = req.body;
    // Parser messages quote the offending text, which could be a feature value: never pass them on.
    const malformed = () => new ProblemError(contractProblem('malformed-json', 'malformed-json'));
    if (!Buffer.isBuffer(raw) || raw.length === 0) throw malformed();
    // isUtf8 + toString rather than a fatal TextDecoder: the same strictness (and a leading BOM is dropped, as
    // TextDecoder does), at a fraction of the cost per request.
    if (!isUtf8(raw)) throw malformed();
    const refused = refuse(raw);
    if (refused) throw refused;
    const text = raw.subarray(0, 3).equals(BOM) ? raw.toString('utf8', 3) : raw.toString('utf8');
    try {
      req.body = JSON.parse(text);
    } catch {
      throw tooDeepProblem(text) ?? malformed();
    }
    (req as ParsedRequest)[JSON_TEXT] = text;
    next();
  };

/**
 * express.json would decode invalid UTF-8 into U+FFFD silently and would echo parser messages; reading the raw
 * bytes ourselves keeps the contract's 400/413/415 distinctions exact. The size limit applies after inflation.
 * body-parser (express.raw) is connect-style, so the same steps run on the predict fast path. `refuse` looks at
 * the body before it is decoded and parsed (the model's cheap refusal: schema/largest-request.ts).
 */
export function jsonBody(maxBytes: number, refuse: BodyCheck = () => undefined): Middleware[] {
  return [
    requireJsonContentType,
    requireSupportedEncoding,
    express.raw({ type: () => true, limit: maxBytes }) as Middleware,
    parseJson(refuse),
  ];
}

/** body-parser's errors, as contract problems; anything else is not a body problem. */
export function bodyErrorToProblem(err: unknown, maxBodyBytes: number): ProblemError | undefined {
  // A body sent as gzip/deflate that does not inflate: body-parser passes zlib's error on as a 400 without a
  // `type`, which would otherwise end up as a 500 internal-error (and an error log line) for a client mistake.
  // (zlib codes: Z_DATA_ERROR, Z_BUF_ERROR, ...)
  const { code, status } = (err ?? {}) as { code?: unknown; status?: unknown };
  if (status === 400 && typeof code === 'string' && /^(Z_|ERR__ERROR_|ERR_BROTLI)/.test(code)) {
    return new ProblemError(contractProblem('malformed-json', 'bad-compression'));
  }
  const type = (err as { type?: unknown })?.type;
  if (typeof type !== 'string') return undefined;
  switch (type) {
    case 'entity.too.large':
      return new ProblemError(contractProblem('body-too-large', 'body-too-large', { maxBodyBytes }));
    case 'encoding.unsupported':
      return new ProblemError(contractProblem('unsupported-media-type', 'unsupported-encoding'));
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
      return new ProblemError(contractProblem('malformed-json', 'incomplete-body'));
    default:
      return undefined;
  }
}
