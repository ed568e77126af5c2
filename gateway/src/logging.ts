import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';
import { CONTRACT } from './contract.js';
import { clientIp, pathOf, type GatewayRequest, type GatewayResponse, type Next } from './pipeline.js';

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

/**
 * stdout written asynchronously and in blocks: lines collect until 4 KiB are waiting (under load, a dozen requests'
 * lines per write) or 250 ms have passed (a quiet gateway still shows each line within a quarter second). Measured
 * in `npm run bench` (case 1, logs to a file): a write per request line cost the gateway about a fifth of its
 * throughput, most of it in the writes rather than in formatting the line. pino itself writes out what is still
 * queued when the process exits.
 */
export function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 });
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'sci-eb-gateway' } };
  return destination ? pino(options, destination) : pino(options);
}

// Echoed into headers and logs: the contract's pattern, which the Flask service applies too.
const ACCEPTABLE_ID = new RegExp(`^(?:${CONTRACT.requestIdPattern})$`);

/** Keeps the caller's X-Request-Id when it is sane, else makes one; both directions carry it. */
export function requestId(req: GatewayRequest, res: GatewayResponse, next: Next): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  res.locals['requestId'] = id;
  next();
}

const QUIET_PATHS = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

/**
 * One line per request, written when the response is done (or the client went away). A plain middleware rather
 * than pino-http: measured in `npm run bench`, pino-http's per-request child logger and serializers cost ~15 % of
 * the gateway's CPU per request. Fields: the path without its query string, the user agent, and clientIp, Express's
 * the caller's address after TRUST_PROXY (the value to check when setting up a proxy chain). Never bodies, never
 * headers with keys.
 */
export function httpLogger(logger: Logger, trust: (address: string, index: number) => boolean) {
  return (req: GatewayRequest, res: GatewayResponse, next: Next): void => {
    const path = pathOf(req);
    // Load balancer and Prometheus polls would drown the interesting lines.
    if (QUIET_PATHS.has(path)) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const status = res.statusCode;
      const aborted = !res.writableFinished;
      const level = status >= 500 ? 'error' : status >= 400 || aborted ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const id = res.locals['requestId'];
      // Flat fields: the redaction paths all start at req/res/headers, so a line without those members skips pino's
      // redaction pass entirely (about 7 µs per request in the benchmark), and holds no header to redact anyway.
      logger[level](
        {
          reqId: id,
          method: req.method,
          path,
          statusCode: status,
          responseTime: Number(process.hrtime.bigint() - started) / 1e6,
          clientIp: clientIp(req, trust),
          userAgent: req.headers['user-agent'],
        },
        aborted ? 'request aborted' : 'request completed',
      );
    });
    next();
  };
}
