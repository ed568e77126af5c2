/**
 * The Express app: every path the gateway answers, with the middleware lists of chains.ts mounted in front. POST
 * /v1/predict is here too, for what the fast path in app.ts hands over (other methods, absolute-form targets).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Chains } from './chains.js';
import { docsRouter, PUBLIC_DIR } from './docs.js';
import type { Metrics } from './metrics.js';
import { pathOf, type Middleware } from './pipeline.js';
import { revalidatedDocument, type RevalidatedDocument } from './revalidation.js';
import { contractProblem, ProblemError, sendProblem } from './problems.js';
import { publicSchema, type ModelSchema } from './schema/load.js';

export const PREDICT_PATH = '/v1/predict';

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
  return new Set(
    files.map((entry) => `/docs/assets/${relative(dir, resolve(entry.parentPath, entry.name)).split(sep).join('/')}`),
  );
}

export interface RouteParts {
  chains: Chains;
  schema: ModelSchema;
  metrics: Metrics;
  /** GET /health/ready: the upstream is healthy and serves this model. */
  readiness: RequestHandler;
  /** The OpenAPI document, serialised once. */
  openapi: string;
}

/** A JSON document with its ETag; 304 without a body when the caller's copy is current. */
function sendRevalidated(document: RevalidatedDocument) {
  return (req: Request, res: Response) => {
    for (const [name, value] of Object.entries(document.headers)) res.setHeader(name, value);
    if (document.matches(req.headers)) res.status(304).end();
    else res.type('application/json').send(document.text);
  };
}

export function createRoutes({ chains, schema, metrics, readiness, openapi }: RouteParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Hop count, not `true`: trusting every X-Forwarded-For entry would let callers pick their own rate-limit key.
  app.set('trust proxy', chains.trust);
  // Paths are matched exactly as sent (docs/contract.md): /V1/Predict and /v1/predict/ are 404, as on the Flask side.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  const mount = (chain: Middleware[]) => chain as unknown as RequestHandler[];

  app.use(mount(chains.everyRequest));

  // Public: health for load balancers, the contract for humans and code generators.
  // /health is /health/live: the Flask service's health path, so one load-balancer setting fits both. Liveness, not
  // readiness: an upstream outage must not take every gateway out of the load balancer (README "HTTP API").
  for (const livePath of ['/health', '/health/live']) {
    app
      .route(livePath)
      .get((_req, res) => {
        res.json({ status: 'ok', model: { name: schema.model.name, version: schema.model.version } });
      })
      .all(methodNotAllowed(GET));
  }
  app.route('/health/ready').get(readiness).all(methodNotAllowed(GET));
  app
    .route('/openapi.json')
    .get(sendRevalidated(revalidatedDocument(openapi)))
    .all(methodNotAllowed(GET));
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
  app.use('/docs/assets', (req, _res, next) =>
    assetPaths.has(pathOf(req)) ? methodNotAllowed(GET)(req, _res, next) : next(),
  );

  // Browsers ask for /favicon.ico on every page of the origin; a 404 there is noise in consoles and logs.
  const favicon = readFileSync(resolve(PUBLIC_DIR, 'assets', 'favicon.svg'));
  app
    .route('/favicon.ico')
    .get((_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=86400');
      res.type('image/svg+xml').send(favicon);
    })
    .all(methodNotAllowed(GET));

  if (chains.v1Guards.length > 0) app.use('/v1', mount(chains.v1Guards));
  if (chains.metricsGuards.length > 0) app.use('/metrics', mount(chains.metricsGuards));

  app
    .route(PREDICT_PATH)
    .post(mount(chains.predictSteps))
    .all(methodNotAllowed(['POST']));
  // The public part only: what callers need, not how the model was made (the Flask service serves the same).
  const publicText = JSON.stringify(publicSchema(schema));
  app
    .route('/v1/schema')
    .get(sendRevalidated(revalidatedDocument(publicText)))
    .all(methodNotAllowed(GET));
  app
    .route('/metrics')
    .get(async (_req, res) => {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    })
    .all(methodNotAllowed(GET));

  app.use((_req, _res, next) => next(new ProblemError(contractProblem('not-found', 'not-found'))));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => chains.handleError(err, req, res));
  return app;
}
