import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { pino, type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';

// Secrets never reach a log line even if a serializer changes: keys, bearer tokens, cookies. Bodies (feature values)
// are never logged at all.
export const REDACT_PATHS = [
  'req.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers["x-api-key"]',
  'headers.authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'sci-eb-gateway' } };
  return destination ? pino(options, destination) : pino(options);
}

// Echoed into headers and logs: a caller must not be able to inject newlines or megabytes through it.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Keeps the caller's X-Request-Id when it is sane, else makes one; both directions carry it. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  res.locals['requestId'] = id;
  next();
}

const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

export function httpLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (_req: IncomingMessage, res: ServerResponse) => String(res.getHeader('X-Request-Id') ?? randomUUID()),
    // Load balancer and Prometheus polls would drown the interesting lines.
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has((req.url ?? '').split('?')[0]!) },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    serializers: {
      // The path without its query string, and only the headers worth having; redaction still covers the rest.
      // clientIp is Express's req.ip, i.e. after TRUST_PROXY: the value to check when setting up a proxy chain.
      req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown>; remoteAddress?: string; raw?: { ip?: string } }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split('?')[0],
        userAgent: req.headers['user-agent'],
        clientIp: req.raw?.ip ?? req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
