import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ModelSchema } from '../../src/schema/load.js';
import { fingerprint, rowIsValid } from './contract-oracle.js';

/**
 * A stand-in for the EB service that trusts nothing the gateway sends: it checks every body and row against the
 * schema with the oracle's own rules (not the gateway's validators), counts rows and keeps whatever was invalid.
 * Its answer to a row is fingerprint(row), so callers can check they got their own row back.
 */
export interface CountingUpstream {
  url: string;
  calls: number;
  rows: number;
  /** Bodies or rows that should never have left the gateway, with why. */
  invalid: Array<{ why: string; value: unknown }>;
  close(): Promise<void>;
}

/**
 * The upstream's answer to one row, by the model's kind: a classifier's first class with [fp, 0, ...] as its
 * probabilities or scores, an outlier detector's 1 or -1 with fp as its score, a cluster 0..2, a regressor's fp.
 */
export function expectedAnswer(
  schema: ModelSchema,
  row: Record<string, unknown>,
): { prediction: unknown; vector?: number[]; score?: number } {
  const fp = fingerprint(row, schema);
  const target = schema.target;
  if (target.type === 'category')
    return { prediction: target.classes[0]!, vector: target.classes.map((_, j) => (j === 0 ? fp : 0)) };
  if (target.type === 'outlier') return { prediction: fp < 0.5 ? 1 : -1, score: fp - 0.5 };
  if (target.type === 'cluster') return { prediction: Math.floor(fp * 3) };
  return { prediction: fp };
}

/**
 * docs/contract.md's "Answers" table, read here without the gateway's src/: the 200 body for these rows, members in
 * the service's order. target.outputs says what a classifier adds; a version 1 classifier answers probabilities.
 */
export function expectedBody(schema: ModelSchema, rows: Array<Record<string, unknown>>): Record<string, unknown> {
  const target = schema.target as { type: string; outputs?: string[]; classes?: unknown[] };
  const outputs =
    target.outputs ?? (target.type === 'category' ? ['probabilities'] : target.type === 'outlier' ? ['scores'] : []);
  const answers = rows.map((row) => expectedAnswer(schema, row));
  const out: Record<string, unknown> = { predictions: answers.map((a) => a.prediction) };
  if (target.type === 'category') {
    if (outputs.includes('probabilities')) out['probabilities'] = answers.map((a) => a.vector);
    if (outputs.includes('scores')) out['scores'] = answers.map((a) => a.vector);
    out['classes'] = target.classes;
  }
  if (target.type === 'outlier' && outputs.includes('scores')) out['scores'] = answers.map((a) => a.score);
  out['model'] = { name: schema.model.name, version: schema.model.version };
  return out;
}

export async function startCountingUpstream(schema: ModelSchema): Promise<CountingUpstream> {
  const sockets = new Set<Socket>();
  const state: CountingUpstream = {
    url: '',
    calls: 0,
    rows: 0,
    invalid: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const version = schema.model.version;
      if (req.method === 'GET' && req.url === '/health') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'ok', model: { name: schema.model.name, version } }));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/predict') {
        res
          .writeHead(404, { 'content-type': 'application/problem+json' })
          .end(JSON.stringify({ type: 'urn:sci-eb:problem:not-found', title: 'not found', status: 404 }));
        return;
      }
      state.calls++;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        state.invalid.push({ why: 'not JSON', value: Buffer.concat(chunks).toString('latin1').slice(0, 200) });
        res.writeHead(500).end();
        return;
      }
      const instances = (body as { instances?: unknown })?.instances;
      const shapeOk =
        typeof body === 'object' &&
        body !== null &&
        !Array.isArray(body) &&
        Object.keys(body).join() === 'instances' &&
        Array.isArray(instances) &&
        instances.length >= 1 &&
        instances.length <= schema.limits.maxRows;
      if (!shapeOk) {
        state.invalid.push({ why: 'body shape', value: body });
        res.writeHead(500).end();
        return;
      }
      const rows = instances as Array<Record<string, unknown>>;
      state.rows += rows.length;
      for (const row of rows) if (!rowIsValid(row, schema)) state.invalid.push({ why: 'row', value: row });
      const out = expectedBody(schema, rows);
      res.writeHead(200, { 'content-type': 'application/json', 'x-model-version': version }).end(JSON.stringify(out));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
