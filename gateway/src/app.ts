import { EventEmitter, once } from 'node:events';
import { readdirSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { createApiKeyAuth } from './auth.js';
import { MicroBatcher } from './batching.js';
import { bodyErrorToProblem, jsonBody } from './body.js';
import { ConfigError, DEFAULT_BATCH_MAX_ROWS, type Config } from './config.js';
import { docsRouter, PUBLIC_DIR } from './docs.js';
import { createReadinessCheck } from './health.js';
import { createLogger, httpLogger, requestId } from './logging.js';
import { createMetrics, type Metrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { describeRunningGateway } from './openapi-runtime.js';
import { pathOf, runChain, trustHops, type GatewayRequest, type GatewayResponse, type Middleware } from './pipeline.js';
import { createPredictHandler } from './predict.js';
import { contractProblem, ProblemError, sendProblem } from './problems.js';
import { createRateLimiter } from './ratelimit.js';
import { loadModelSchema, type ModelSchema } from './schema/load.js';
import { buildValidators } from './schema/validators.js';
import { corsAllowList, securityHeaders } from './security.js';
import { createAxiosClient } from './upstream/axios-client.js';
import { createBreaker, upstreamHealthy, type Breaker } from './upstream/breaker.js';
import type { UpstreamClient } from './upstream/client.js';
import { createPredictor } from './upstream/resilient.js';
import { createUndiciClient } from './upstream/undici-client.js';

export interface AppDeps {
  /** Replaces the client built from UPSTREAM_URL (tests, other transports). */
  upstream?: UpstreamClient;
  logger?: Logger;
  /** Replaces reading SCHEMA_PATH. */
  schema?: ModelSchema;
  /** A shared rate-limit store (Redis) when several instances run; in-memory otherwise. */
  rateLimitStore?: Store;
  /** Process-wide default metrics (event loop, GC); off in tests that build many apps. */
  collectDefaultMetrics?: boolean;
}

export interface GatewayControl {
  /** Stops batching windows, waits for in-flight requests (those queued in a batch included); false on timeout. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Releases the upstream pool and timers; call after drain. */
  close(): Promise<void>;
  inFlight(): number;
  metrics: Metrics;
  breaker: Breaker;
  schema: ModelSchema;
}

/** A request listener for http.createServer (or supertest), plus the control surface server.ts needs. */
export type GatewayApp = ((req: IncomingMessage, res: ServerResponse) => void) & { gateway: GatewayControl };

const PREDICT_PATH = '/v1/predict';

/** What a GET route answers: Express answers HEAD for every GET route, so Allow names both. */
const GET = ['GET', 'HEAD'];

function methodNotAllowed(allowed: string[]): RequestHandler {
  return (_req, res) => {
    res.setHeader('Allow', allowed.join(', '));
    sendProblem(res, contractProblem('method-not-allowed', 'method-not-allowed'));
  };
}

/**
 * Every file the docs page serves, as a request path: those paths exist, so another method there is a 405 like
 * on every other path (express.static would pass it on to the 404).
 */
function docsAssetPaths(): Set<string> {
  const dir = resolve(PUBLIC_DIR, 'assets');
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return new Set(files.map((entry) => '/docs/assets/' + relative(dir, resolve(entry.parentPath, entry.name)).split(sep).join('/')));
}

export function createApp(config: Config, deps: AppDeps = {}): GatewayApp {
  const logger = deps.logger ?? createLogger(config.LOG_LEVEL);
  const schema = deps.schema ?? loadModelSchema(config.SCHEMA_PATH);
  const validators = buildValidators(schema);
  const openapi = JSON.stringify(describeRunningGateway(buildOpenApi(validators), { apiKeys: config.API_KEY_HASHES.length > 0 }));
  const metrics = createMetrics(schema.model, deps.collectDefaultMetrics ?? false);

  if (config.BATCH_MAX_ROWS !== undefined && config.BATCH_MAX_ROWS > schema.limits.maxRows) {
    throw new ConfigError([`BATCH_MAX_ROWS must be at most the model's limits.maxRows (${schema.limits.maxRows})`]);
  }
  const batchMaxRows = config.BATCH_MAX_ROWS ?? Math.min(DEFAULT_BATCH_MAX_ROWS, schema.limits.maxRows);

  const poolOptions = {
    baseUrl: config.UPSTREAM_URL,
    healthPath: config.UPSTREAM_HEALTH_PATH,
    connections: config.UPSTREAM_CONNECTIONS,
    keepAliveMs: config.UPSTREAM_KEEPALIVE_MS,
  };
  const upstream = deps.upstream ?? (config.UPSTREAM_CLIENT === 'axios' ? createAxiosClient(poolOptions) : createUndiciClient(poolOptions));
  const breaker = createBreaker({
    errorPercent: config.BREAKER_ERROR_PERCENT,
    minRequests: config.BREAKER_MIN_REQUESTS,
    windowMs: config.BREAKER_WINDOW_MS,
    resetMs: config.BREAKER_RESET_MS,
    ...(config.BREAKER_PROBE_MS > 0 ? { probe: { intervalMs: config.BREAKER_PROBE_MS, healthy: () => upstreamHealthy(upstream, config.BREAKER_PROBE_TIMEOUT_MS, metrics) } } : {}),
    onStateChange: (state) => {
      metrics.setBreakerState(state);
      logger.warn({ state }, 'upstream circuit breaker changed state');
    },
  });
  const predictor = createPredictor(
    upstream,
    breaker,
    { retries: config.UPSTREAM_RETRIES, baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS },
    metrics,
    logger,
  );
  const batcher = config.BATCH_ENABLED
    ? new MicroBatcher({ windowMs: config.BATCH_WINDOW_MS, maxRows: batchMaxRows, predictor, metrics, logger })
    : undefined;

  let draining = false;
  let inFlight = 0;
  const idle = new EventEmitter();
  const readiness = createReadinessCheck({
    client: upstream,
    schema,
    timeoutMs: config.UPSTREAM_HEALTH_TIMEOUT_MS,
    cacheMs: config.READY_CACHE_MS,
    logger,
    isDraining: () => draining,
  });

  const trust = trustHops(config.TRUST_PROXY);
  const track: Middleware = (_req, res, next) => {
    inFlight++;
    // Keep-alive clients are told to reconnect (to another instance) while this one drains.
    if (draining) res.setHeader('Connection', 'close');
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) idle.emit('idle');
    });
    next();
  };
  const modelVersion: Middleware = (_req, res, next) => {
    res.setHeader('X-Model-Version', schema.model.version);
    next();
  };
  const cors = corsAllowList(config.CORS_ORIGINS);
  // What every request goes through, then what every /v1 request goes through: one list each, mounted in Express
  // and run as they are by the predict fast path below.
  const everyRequest: Middleware[] = [track, requestId, httpLogger(logger, trust), metrics.middleware, securityHeaders, modelVersion, ...(cors ? [cors] : [])];
  const apiKeys = config.API_KEY_HASHES.length > 0 ? createApiKeyAuth(config.API_KEY_HASHES) : undefined;
  if (!apiKeys) logger.warn('API_KEY_HASHES is empty and ALLOW_ANONYMOUS=true: predictions are open to anyone who can reach this gateway');
  const rateLimiter =
    config.RATE_LIMIT_MAX > 0
      ? createRateLimiter({
          max: config.RATE_LIMIT_MAX,
          windowMs: config.RATE_LIMIT_WINDOW_MS,
          failOpen: config.RATE_LIMIT_FAIL_OPEN,
          logger,
          trust,
          ...(deps.rateLimitStore ? { store: deps.rateLimitStore } : {}),
        })
      : undefined;
  // identify, count (a refused key spends its address's budget: key guessing is rate limited too), then refuse.
  const v1Guards: Middleware[] = [...(apiKeys ? [apiKeys.identify] : []), ...(rateLimiter ? [rateLimiter] : []), ...(apiKeys ? [apiKeys.reject] : [])];
  // /metrics is not rate limited for its scraper, but a refused key there spends the same budget as on /v1.
  const countRefused: Middleware = (req, res, next) => (res.locals['authFailure'] !== undefined && rateLimiter ? rateLimiter(req, res, next) : next());
  const metricsGuards: Middleware[] = apiKeys ? [apiKeys.identify, countRefused, apiKeys.reject] : [];
  const predictSteps: Middleware[] = [
    ...jsonBody(schema.limits.maxBodyBytes),
    createPredictHandler({ validators, predictor, batcher, deadlineMs: config.REQUEST_DEADLINE_MS, logger }),
  ];

  const handleError = (err: unknown, req: GatewayRequest, res: GatewayResponse): void => {
    const problem = err instanceof ProblemError ? err : bodyErrorToProblem(err, schema.limits.maxBodyBytes);
    if (!problem) logger.error({ err, requestId: res.locals['requestId'], path: pathOf(req) }, 'unhandled error');
    if (res.headersSent || res.destroyed) return;
    const rendered = problem ?? new ProblemError(contractProblem('internal-error', 'internal-error'));
    sendProblem(res, rendered.problem, rendered.headers);
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Hop count, not `true`: trusting every X-Forwarded-For entry would let callers pick their own rate-limit key.
  app.set('trust proxy', trust);
  // Paths are matched exactly as sent (docs/contract.md): /V1/Predict and /v1/predict/ are 404, as on the Flask side.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  const mount = (chain: Middleware[]) => chain as unknown as RequestHandler[];

  app.use(mount(everyRequest));

  // Public: health for load balancers, the contract for humans and code generators.
  // /health is /health/live: the Flask service's health path, so one load-balancer setting fits both. Liveness, not
  // readiness: an upstream outage must not take every gateway out of the load balancer (README "HTTP API").
  for (const livePath of ['/health', '/health/live']) {
    app.route(livePath).get((_req, res) => {
      res.json({ status: 'ok', model: { name: schema.model.name, version: schema.model.version } });
    }).all(methodNotAllowed(GET));
  }
  app.route('/health/ready').get(readiness.handler).all(methodNotAllowed(GET));
  app.route('/openapi.json').get((_req, res) => {
    res.type('application/json').send(openapi);
  }).all(methodNotAllowed(GET));
  // docsRouter is a Router of its own, which matches case-insensitively and with a trailing slash: only the exact
  // paths reach it, as everywhere else.
  const docs = docsRouter();
  app.use((req, res, next) => {
    const path = pathOf(req);
    if (path === '/docs' || path.startsWith('/docs/assets/')) docs(req, res, next);
    else next();
  });
  const assetPaths = docsAssetPaths();
  app.all('/docs', methodNotAllowed(GET));
  app.use('/docs/assets', (req, _res, next) => (assetPaths.has(pathOf(req)) ? methodNotAllowed(GET)(req, _res, next) : next()));

  if (v1Guards.length > 0) app.use('/v1', mount(v1Guards));
  if (apiKeys) app.use('/metrics', mount(metricsGuards));

  // POST on the exact path takes the fast path below; Express sees other methods (405) and absolute-form targets.
  app.route(PREDICT_PATH).post(mount(predictSteps)).all(methodNotAllowed(['POST']));
  app.route('/v1/schema').get((_req, res) => {
    res.json(schema);
  }).all(methodNotAllowed(GET));
  app.route('/metrics').get(async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  }).all(methodNotAllowed(GET));

  app.use((_req, _res, next) => next(new ProblemError(contractProblem('not-found', 'not-found'))));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => handleError(err, req, res));

  // The predict fast path: POST /v1/predict runs the very same middlewares without Express around them. Measured in
  // `npm run bench` (case 1), Express's per-request set-up alone (request/response prototypes, router) halved
  // the gateway's throughput; every other path is rare enough to keep Express's conveniences.
  const fastPath = [...everyRequest, ...v1Guards, ...predictSteps];
  const gateway = ((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && pathOf(req) === PREDICT_PATH) {
      const response = res as GatewayResponse;
      response.locals = { route: PREDICT_PATH };
      runChain(fastPath, req, response, handleError);
    } else {
      app(req as Request, res as Response);
    }
  }) as GatewayApp;

  gateway.gateway = {
    async drain(timeoutMs) {
      draining = true;
      // Rows waiting for a batch window are sent now; their requests count as in flight until answered.
      void batcher?.drain();
      const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
      try {
        while (inFlight > 0) await once(idle, 'idle', { signal: timeout });
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      breaker.shutdown();
      await upstream.close();
    },
    inFlight: () => inFlight,
    metrics,
    breaker,
    schema,
  };
  return gateway;
}
