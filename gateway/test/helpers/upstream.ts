import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { ModelSchema } from '../../src/schema/load.js';

type Row = Record<string, unknown>;

/** What the fake EB service does with the next POST /v1/predict; `ok` echoes row-derived predictions. */
export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; contentType?: string }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'bad-json' }
  | { kind: 'wrong-length' };

export interface PredictCall {
  requestId: string | undefined;
  rows: Row[];
  /** X-Service-Token, when the gateway sent one (UPSTREAM_TOKEN). */
  serviceToken?: string;
}

/**
 * The echo rule lets a test compute what each row must get back, so a caller receiving a neighbour's row is visible:
 * regression: prediction = sum of numeric features; classification: probabilities = [first numeric / 100, ...rest 0],
 * prediction = classes[(rounded first numeric) % classes.length].
 */
export function echoPrediction(
  schema: ModelSchema,
  row: Row,
): { prediction: string | number | boolean; probabilities?: number[] } {
  const numbers = schema.features
    .filter((f) => f.type === 'number' || f.type === 'integer')
    .map((f) => (typeof row[f.name] === 'number' ? (row[f.name] as number) : 0));
  if (schema.target.type !== 'category') return { prediction: numbers.reduce((a, b) => a + b, 0) };
  const classes = schema.target.classes;
  const first = numbers[0] ?? 0;
  const probabilities = classes.map((_, j) => (j === 0 ? first / 100 : 0));
  return { prediction: classes[Math.round(first) % classes.length]!, probabilities };
}

export interface FakeUpstream {
  url: string;
  port: number;
  calls: PredictCall[];
  healthHits: number;
  /** Predict calls whose connection the gateway closed before an answer was sent. */
  abandoned: number;
  /** Behaviours consumed one per predict call, then `fallback` for the rest. */
  script: Behaviour[];
  fallback: Behaviour;
  modelVersion: string;
  healthStatus: number;
  /** Hold each /health answer this long (a hanging upstream, for the breaker's probe). */
  healthDelayMs: number;
  /** Most /health requests in progress at the same time, since the last reset. */
  healthMaxInFlight: number;
  /** Omit the model from /health so the gateway has to ask /v1/schema. */
  healthWithoutModel: boolean;
  /** What the service's after_predict hook does to each answer (rows: the rows of that call), as application.py's. */
  afterPredict: ((body: Record<string, unknown>, rows: Row[]) => Record<string, unknown>) | undefined;
  /** X-Service-Token of the last /health or /v1/schema request. */
  controlToken: string | undefined;
  /** The token /v1/schema requires, as the service behind GATEWAY_ONLY does (401 otherwise); none by default. */
  schemaToken: string | undefined;
  /** Back to how it started: no script, answering ok, the schema's model version, healthy, no calls recorded. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeUpstream(schemaPath: string): Promise<FakeUpstream> {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as ModelSchema;
  const sockets = new Set<import('node:net').Socket>();
  let healthInFlight = 0;
  const state: FakeUpstream = {
    url: '',
    port: 0,
    calls: [],
    healthHits: 0,
    abandoned: 0,
    script: [],
    fallback: { kind: 'ok' },
    modelVersion: schema.model.version,
    healthStatus: 200,
    healthDelayMs: 0,
    healthMaxInFlight: 0,
    healthWithoutModel: false,
    afterPredict: undefined,
    controlToken: undefined,
    schemaToken: undefined,
    reset() {
      Object.assign(state, {
        script: [],
        fallback: { kind: 'ok' },
        modelVersion: schema.model.version,
        healthStatus: 200,
        healthDelayMs: 0,
        healthMaxInFlight: 0,
        healthWithoutModel: false,
        afterPredict: undefined,
        controlToken: undefined,
        schemaToken: undefined,
        healthHits: 0,
        abandoned: 0,
      });
      state.calls.length = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-model-version': state.modelVersion, ...headers });
    res.end(JSON.stringify(body));
  };

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  const server = http.createServer(async (req, res) => {
    const serviceToken = req.headers['x-service-token'] as string | undefined;
    if (req.method === 'GET') state.controlToken = serviceToken;
    if (req.method === 'GET' && req.url === '/health') {
      state.healthHits++;
      healthInFlight++;
      state.healthMaxInFlight = Math.max(state.healthMaxInFlight, healthInFlight);
      // Counted until the answer is sent or the gateway gives up on it (closes the connection).
      res.once('close', () => healthInFlight--);
      if (state.healthDelayMs > 0) await new Promise((r) => setTimeout(r, state.healthDelayMs));
      if (res.destroyed) return;
      const model = { name: schema.model.name, version: state.modelVersion };
      json(res, state.healthStatus, state.healthWithoutModel ? { status: 'ok' } : { status: 'ok', model });
      return;
    }
    if (req.method === 'GET' && req.url === '/v1/schema') {
      if (state.schemaToken !== undefined && serviceToken !== state.schemaToken) {
        json(res, 401, { type: 'urn:sci-eb:problem:unauthorized', title: 'A valid API key is required', status: 401 });
        return;
      }
      json(res, 200, { ...schema, model: { ...schema.model, version: state.modelVersion } });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/predict') {
      json(res, 404, { type: 'urn:sci-eb:problem:not-found', title: 'not found', status: 404 });
      return;
    }
    const text = await readBody(req);
    const rows = (JSON.parse(text) as { instances: Row[] }).instances;
    const requestId = req.headers['x-request-id'] as string | undefined;
    state.calls.push({ requestId, rows, ...(serviceToken === undefined ? {} : { serviceToken }) });
    const behaviour = state.script.shift() ?? state.fallback;
    const answer = () => {
      const echoes = rows.map((row) => echoPrediction(schema, row));
      const body: Record<string, unknown> = { predictions: echoes.map((e) => e.prediction) };
      if (schema.target.type === 'category') {
        body['probabilities'] = echoes.map((e) => e.probabilities);
        body['classes'] = schema.target.classes;
      }
      body['model'] = { name: schema.model.name, version: state.modelVersion };
      json(
        res,
        200,
        state.afterPredict ? state.afterPredict(body, rows) : body,
        requestId ? { 'x-request-id': requestId } : {},
      );
    };
    switch (behaviour.kind) {
      case 'ok':
        answer();
        return;
      case 'slow':
        setTimeout(answer, behaviour.delayMs);
        return;
      case 'hang':
        res.on('close', () => {
          if (!res.writableEnded) state.abandoned++;
        });
        return;
      case 'status':
        res.writeHead(behaviour.status, {
          'content-type': behaviour.contentType ?? 'application/problem+json',
          ...(behaviour.headers ?? {}),
        });
        res.end(
          behaviour.body ??
            JSON.stringify({ type: 'urn:sci-eb:problem:internal-error', title: 'failed', status: behaviour.status }),
        );
        return;
      case 'reset':
        // Headers and half a body, then the connection dies: a crash mid-response.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"predictions": [');
        setTimeout(() => req.socket.destroy(), 5);
        return;
      case 'bad-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"predictions": [oops');
        return;
      case 'wrong-length':
        json(res, 200, { predictions: [], model: { name: schema.model.name, version: state.modelVersion } });
        return;
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  return state;
}

/** A port on loopback that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
