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

export function expectedAnswer(schema: ModelSchema, row: Record<string, unknown>) {
  const fp = fingerprint(row, schema);
  if (schema.target.type === 'number') return { prediction: fp };
  const classes = schema.target.classes;
  return { prediction: classes[0]!, probabilities: classes.map((_, j) => (j === 0 ? fp : 0)) };
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
      const answers = rows.map((row) => expectedAnswer(schema, row));
      const out: Record<string, unknown> = { predictions: answers.map((a) => a.prediction) };
      if (schema.target.type === 'category') {
        out['probabilities'] = answers.map((a) => a.probabilities);
        out['classes'] = schema.target.classes;
      }
      out['model'] = { name: schema.model.name, version };
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
