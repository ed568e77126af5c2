import type { Request } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BreakerState } from './upstream/breaker.js';
import type { GatewayRequest, GatewayResponse, Next } from './pipeline.js';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  upstreamDuration: Histogram<'outcome'>;
  upstreamRetries: Counter<'reason'>;
  breakerState: Gauge;
  breakerRejections: Counter;
  breakerProbes: Counter<'outcome'>;
  batchSize: Histogram;
  setBreakerState(state: BreakerState): void;
  middleware(req: GatewayRequest, res: GatewayResponse, next: Next): void;
}

// 2 ms to 10 s: from a fixed-response upstream to REQUEST_DEADLINE_MS's range, for the gateway and its upstream alike.
const LATENCY_BUCKETS_SECONDS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** One registry per app, so several apps in one process (tests, benchmarks) never share or clash. */
export function createMetrics(model: { name: string; version: string }, collectDefaults = true): Metrics {
  const registry = new Registry();
  if (collectDefaults) collectDefaultMetrics({ register: registry });

  const httpRequests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered, by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'Time from request to response, by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Duration of each upstream attempt, by outcome (ok, or the failure kind)',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const upstreamRetries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Upstream attempts repeated after a connection failure or a 502/503/504',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const breakerState = new Gauge({
    name: 'gateway_upstream_breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
    registers: [registry],
  });
  const breakerRejections = new Counter({
    name: 'gateway_upstream_breaker_rejections_total',
    help: 'Predictions failed fast because the breaker was open',
    registers: [registry],
  });
  const breakerProbes = new Counter({
    name: 'gateway_upstream_breaker_probes_total',
    help: 'Health requests the open breaker sent to find out whether the upstream is back, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'gateway_batch_size_rows',
    help: 'Rows per upstream call made by the micro-batcher',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  const modelInfo = new Gauge({
    name: 'gateway_model_info',
    help: "The model the gateway's schema.json describes",
    labelNames: ['name', 'version'] as const,
    registers: [registry],
  });
  modelInfo.set({ name: model.name, version: model.version }, 1);
  breakerState.set(0);

  return {
    registry,
    httpRequests,
    httpDuration,
    upstreamDuration,
    upstreamRetries,
    breakerState,
    breakerRejections,
    breakerProbes,
    batchSize,
    setBreakerState(state) {
      breakerState.set(BREAKER_STATE_VALUE[state]);
    },
    middleware(req, res, next) {
      const stop = httpDuration.startTimer();
      res.on('finish', () => {
        // The route template, never the raw URL: unmatched paths would otherwise grow the label set without bound.
        // The predict fast path names its route in res.locals; Express requests carry their matched route.
        const matched = (req as Partial<Request>).route as { path?: unknown } | undefined;
        const route =
          (res.locals['route'] as string | undefined) ??
          (matched?.path ? `${(req as Partial<Request>).baseUrl ?? ''}${String(matched.path)}` : 'unmatched');
        const labels = { method: req.method ?? '', route, status: String(res.statusCode) };
        httpRequests.inc(labels);
        stop(labels);
      });
      next();
    },
  };
}
