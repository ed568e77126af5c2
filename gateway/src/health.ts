import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { ModelSchema } from './schema/load.js';
import { makeProblem, sendProblem } from './problems.js';
import { UpstreamFailure, type UpstreamClient } from './upstream/client.js';

export interface Readiness {
  ready: boolean;
  reason?: string;
  upstreamModel?: { name?: string; version?: string };
}

function modelOf(body: unknown): { name?: string; version?: string } | undefined {
  const model = (body as { model?: { name?: unknown; version?: unknown } } | undefined)?.model;
  if (!model || typeof model.version !== 'string') return undefined;
  return { version: model.version, ...(typeof model.name === 'string' ? { name: model.name } : {}) };
}

/**
 * Ready means: the upstream says it is healthy AND serves the model version this gateway validates for. A gateway
 * whose schema.json is for another model would reject good rows or pass bad ones, so a mismatch is "not ready".
 * The result is cached briefly so load-balancer polls do not become upstream load.
 */
/** The 503 of /health/ready while the gateway drains (also the OpenAPI document's example). */
export const DRAINING_DETAIL = 'The gateway is shutting down.';

export function createReadinessCheck(options: {
  client: UpstreamClient;
  schema: ModelSchema;
  timeoutMs: number;
  cacheMs: number;
  logger: Logger;
  isDraining: () => boolean;
}) {
  let cached: { at: number; result: Readiness } | undefined;
  let running: Promise<Readiness> | undefined;

  async function probe(): Promise<Readiness> {
    const ctx = { requestId: `ready-${Date.now()}`, deadline: Date.now() + options.timeoutMs };
    const expected = options.schema.model.version;
    try {
      const health = await options.client.health(ctx);
      if (health.status !== 200) return { ready: false, reason: `the upstream health check answered ${health.status}` };
      // The health body should name the model; older services only expose it through GET /v1/schema.
      let model = modelOf(health.body);
      if (!model) {
        const schema = await options.client.schema(ctx);
        if (schema.status !== 200)
          return { ready: false, reason: `the upstream's /v1/schema answered ${schema.status}` };
        model = modelOf(schema.body);
      }
      if (!model?.version) return { ready: false, reason: 'the upstream does not say which model version it serves' };
      if (model.version !== expected) {
        return {
          ready: false,
          upstreamModel: model,
          reason: `the upstream serves model version ${model.version}, but this gateway's schema.json is for version ${expected}: after a retrain, run make gateway (npm run schema:sync) and deploy both`,
        };
      }
      // The health check is open, predictions are not: behind GATEWAY_ONLY the service answers them (and its schema)
      // only to UPSTREAM_TOKEN. A token it does not hold makes every prediction a 502, so that is "not ready" too.
      const guarded = await options.client.schema(ctx);
      if (guarded.status === 401)
        return {
          ready: false,
          upstreamModel: model,
          reason:
            "the upstream refused this gateway's UPSTREAM_TOKEN (401 on /v1/schema), so every prediction fails: set UPSTREAM_TOKEN to one of the service's SERVICE_TOKENS (make gateway-token-rotate sets both)",
        };
      return { ready: true, upstreamModel: model };
    } catch (err) {
      const why = err instanceof UpstreamFailure ? err.message : 'the upstream health check failed';
      return { ready: false, reason: why };
    }
  }

  async function check(): Promise<Readiness> {
    if (cached && Date.now() - cached.at < options.cacheMs) return cached.result;
    // Concurrent polls share one probe.
    running ??= probe().finally(() => {
      running = undefined;
    });
    const result = await running;
    if (!result.ready) options.logger.warn({ reason: result.reason }, 'not ready');
    cached = { at: Date.now(), result };
    return result;
  }

  return {
    check,
    async handler(_req: Request, res: Response): Promise<void> {
      if (options.isDraining()) {
        sendProblem(res, makeProblem('not-ready', 503, DRAINING_DETAIL));
        return;
      }
      const result = await check();
      if (!result.ready) {
        sendProblem(
          res,
          makeProblem(
            'not-ready',
            503,
            result.reason,
            result.upstreamModel ? { upstreamModel: result.upstreamModel } : {},
          ),
        );
        return;
      }
      res.json({ status: 'ready', model: { name: options.schema.model.name, version: options.schema.model.version } });
    },
  };
}
