/**
 * What the gateway is made of before any request arrives: the model's schema and its validators, metrics, the
 * upstream client behind its circuit breaker and retries, and the micro-batcher. Built once from the config; the
 * routes and the predict fast path share them.
 */
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { MicroBatcher } from './batching.js';
import { ConfigError, DEFAULT_BATCH_MAX_ROWS, type Config } from './config.js';
import { createLogger } from './logging.js';
import { createMetrics, type Metrics } from './metrics.js';
import { loadModelSchema, type ModelSchema } from './schema/load.js';
import { buildValidators, type Validators } from './schema/validators.js';
import { createAxiosClient } from './upstream/axios-client.js';
import { createBreaker, upstreamHealthy, type Breaker } from './upstream/breaker.js';
import type { UpstreamClient } from './upstream/client.js';
import { createPredictor, type Predictor } from './upstream/resilient.js';
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

export interface Services {
  logger: Logger;
  schema: ModelSchema;
  validators: Validators;
  metrics: Metrics;
  upstream: UpstreamClient;
  breaker: Breaker;
  predictor: Predictor;
  /** Off with BATCH_ENABLED=false: each request is its own upstream call. */
  batcher?: MicroBatcher;
}

export function createServices(config: Config, deps: AppDeps): Services {
  const logger = deps.logger ?? createLogger(config.LOG_LEVEL);
  const schema = deps.schema ?? loadModelSchema(config.SCHEMA_PATH);
  const validators = buildValidators(schema);
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
    ...(config.UPSTREAM_TOKEN ? { token: config.UPSTREAM_TOKEN } : {}),
  };
  const upstream =
    deps.upstream ??
    (config.UPSTREAM_CLIENT === 'axios' ? createAxiosClient(poolOptions) : createUndiciClient(poolOptions));
  const breaker = createBreaker({
    errorPercent: config.BREAKER_ERROR_PERCENT,
    minRequests: config.BREAKER_MIN_REQUESTS,
    windowMs: config.BREAKER_WINDOW_MS,
    resetMs: config.BREAKER_RESET_MS,
    ...(config.BREAKER_PROBE_MS > 0
      ? {
          probe: {
            intervalMs: config.BREAKER_PROBE_MS,
            healthy: () => upstreamHealthy(upstream, config.BREAKER_PROBE_TIMEOUT_MS, metrics.breakerProbes),
          },
        }
      : {}),
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
  return { logger, schema, validators, metrics, upstream, breaker, predictor, ...(batcher ? { batcher } : {}) };
}
