/**
 * The middleware lists a request goes through: what every request gets, what guards /v1 and /metrics (API keys,
 * rate limits), and the predict steps. One list each, mounted in Express by routes.ts and run as they are by the
 * predict fast path in app.ts, so both paths apply the very same checks in the same order.
 */
import type { Store } from 'express-rate-limit';
import { createApiKeyAuth } from './auth.js';
import { bodyErrorToProblem, jsonBody } from './body.js';
import type { Config } from './config.js';
import { httpLogger, requestId } from './logging.js';
import { pathOf, trustHops, type GatewayRequest, type GatewayResponse, type Middleware } from './pipeline.js';
import { createPredictHandler } from './predict.js';
import { contractProblem, ProblemError, sendProblem } from './problems.js';
import { createRateLimiter } from './ratelimit.js';
import { impossibleBody } from './schema/largest-request.js';
import { corsAllowList, securityHeaders, strictTransportSecurity } from './security.js';
import type { Services } from './services.js';

export interface Chains {
  /** Which X-Forwarded-For hops are believed (Express's `trust proxy`, the rate limiter's client address). */
  trust: ReturnType<typeof trustHops>;
  everyRequest: Middleware[];
  v1Guards: Middleware[];
  metricsGuards: Middleware[];
  predictSteps: Middleware[];
  /** Renders what a middleware threw as problem+json (and logs what is not a known problem). */
  handleError: (err: unknown, req: GatewayRequest, res: GatewayResponse) => void;
}

export function buildChains(config: Config, services: Services, track: Middleware, rateLimitStore?: Store): Chains {
  const { logger, schema, validators, metrics, predictor, batcher } = services;
  const trust = trustHops(config.TRUST_PROXY);
  const modelVersion: Middleware = (_req, res, next) => {
    res.setHeader('X-Model-Version', schema.model.version);
    next();
  };
  const cors = corsAllowList(config.CORS_ORIGINS);
  const hsts = strictTransportSecurity(config.HSTS_MAX_AGE);
  const everyRequest: Middleware[] = [
    track,
    requestId,
    httpLogger(logger, trust),
    metrics.middleware,
    securityHeaders,
    ...(hsts ? [hsts] : []),
    modelVersion,
    ...(cors ? [cors] : []),
  ];
  const apiKeys = config.API_KEY_HASHES.length > 0 ? createApiKeyAuth(config.API_KEY_HASHES) : undefined;
  if (!apiKeys)
    logger.warn(
      'API_KEY_HASHES is empty and ALLOW_ANONYMOUS=true: predictions are open to anyone who can reach this gateway',
    );
  const rateLimiter =
    config.RATE_LIMIT_MAX > 0
      ? createRateLimiter({
          max: config.RATE_LIMIT_MAX,
          windowMs: config.RATE_LIMIT_WINDOW_MS,
          onStoreError:
            config.RATE_LIMIT_ON_STORE_ERROR ??
            (config.RATE_LIMIT_FAIL_OPEN === undefined ? 'local' : config.RATE_LIMIT_FAIL_OPEN ? 'open' : 'closed'),
          instances: config.RATE_LIMIT_INSTANCES,
          logger,
          trust,
          ...(rateLimitStore ? { store: rateLimitStore } : {}),
        })
      : undefined;
  // identify, count (a refused key spends its address's budget: key guessing is rate limited too), then refuse.
  const v1Guards: Middleware[] = [
    ...(apiKeys ? [apiKeys.identify] : []),
    ...(rateLimiter ? [rateLimiter] : []),
    ...(apiKeys ? [apiKeys.reject] : []),
  ];
  // /metrics is not rate limited for its scraper, but a refused key there spends the same budget as on /v1.
  const countRefused: Middleware = (req, res, next) =>
    res.locals['authFailure'] !== undefined && rateLimiter ? rateLimiter(req, res, next) : next();
  const metricsGuards: Middleware[] = apiKeys ? [apiKeys.identify, countRefused, apiKeys.reject] : [];
  const predictSteps: Middleware[] = [
    ...jsonBody(schema.limits.maxBodyBytes, impossibleBody(schema)),
    createPredictHandler({ validators, predictor, batcher, deadlineMs: config.REQUEST_DEADLINE_MS, logger }),
  ];

  const handleError = (err: unknown, req: GatewayRequest, res: GatewayResponse): void => {
    const problem = err instanceof ProblemError ? err : bodyErrorToProblem(err, schema.limits.maxBodyBytes);
    if (!problem) logger.error({ err, requestId: res.locals['requestId'], path: pathOf(req) }, 'unhandled error');
    if (res.headersSent || res.destroyed) return;
    const rendered = problem ?? new ProblemError(contractProblem('internal-error', 'internal-error'));
    sendProblem(res, rendered.problem, rendered.headers);
  };
  return { trust, everyRequest, v1Guards, metricsGuards, predictSteps, handleError };
}
