/**
 * `createApp(config, deps)`: the gateway as a request listener. It puts together the services (services.ts), the
 * middleware lists (chains.ts), the Express routes (routes.ts) and the in-flight count that drain waits on
 * (inflight.ts), and sends POST /v1/predict down its fast path. server.ts only listens and shuts down.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { buildChains } from './chains.js';
import type { Config } from './config.js';
import { createReadinessCheck } from './health.js';
import { createInFlight } from './inflight.js';
import type { Metrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { describeRunningGateway } from './openapi-runtime.js';
import { pathOf, runChain, type GatewayResponse } from './pipeline.js';
import { createRoutes, PREDICT_PATH } from './routes.js';
import type { ModelSchema } from './schema/load.js';
import { createServices, type AppDeps } from './services.js';
import type { Breaker } from './upstream/breaker.js';

// What createApp takes is what the services are built from; exported here beside createApp for its callers.
export type { AppDeps } from './services.js';

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

export function createApp(config: Config, deps: AppDeps = {}): GatewayApp {
  const services = createServices(config, deps);
  const { logger, schema, validators, metrics, upstream, breaker, batcher } = services;
  const inFlight = createInFlight();
  const readiness = createReadinessCheck({
    client: upstream,
    schema,
    timeoutMs: config.UPSTREAM_HEALTH_TIMEOUT_MS,
    cacheMs: config.READY_CACHE_MS,
    logger,
    isDraining: inFlight.isDraining,
  });
  const chains = buildChains(config, services, inFlight.track, deps.rateLimitStore);
  const openapi = JSON.stringify(
    describeRunningGateway(buildOpenApi(validators), {
      apiKeys: config.API_KEY_HASHES.length > 0,
      rateLimit: config.RATE_LIMIT_MAX > 0,
    }),
  );
  const app = createRoutes({ chains, schema, metrics, readiness: readiness.handler, openapi });

  // The predict fast path: POST /v1/predict runs the very same middlewares without Express around them. Measured in
  // `npm run bench` (case 1), Express's per-request set-up alone (request/response prototypes, router) halved
  // the gateway's throughput; every other path is rare enough to keep Express's conveniences.
  const fastPath = [...chains.everyRequest, ...chains.v1Guards, ...chains.predictSteps];
  const gateway = ((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && pathOf(req) === PREDICT_PATH) {
      const response = res as GatewayResponse;
      response.locals = { route: PREDICT_PATH };
      runChain(fastPath, req, response, chains.handleError);
    } else {
      app(req as Request, res as Response);
    }
  }) as GatewayApp;

  gateway.gateway = {
    async drain(timeoutMs) {
      inFlight.beginDrain();
      // Rows waiting for a batch window are sent now; their requests count as in flight until answered.
      void batcher?.drain();
      return inFlight.settled(timeoutMs);
    },
    async close() {
      breaker.shutdown();
      await upstream.close();
    },
    inFlight: inFlight.count,
    metrics,
    breaker,
    schema,
  };
  return gateway;
}
