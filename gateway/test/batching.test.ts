import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, REGRESSOR, irisRow, listen, postJson, silentLogger, testApp } from './helpers/app.js';
import { echoPrediction, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { loadModelSchema } from '../src/schema/load.js';
import { MicroBatcher, memberAnswer } from '../src/batching.js';
import { createMetrics } from '../src/metrics.js';

const regressor = loadModelSchema(REGRESSOR);
const iris = loadModelSchema(IRIS);
const house = (i: number) => ({
  area_m2: 50 + i,
  rooms: 1 + (i % 7),
  year_built: i % 3 === 0 ? null : 1950 + i,
  city: 'Hamburg',
});

let upstream: FakeUpstream;
let irisUpstream: FakeUpstream;
const servers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  upstream = await startFakeUpstream(REGRESSOR);
  irisUpstream = await startFakeUpstream(IRIS);
});
afterAll(async () => {
  await upstream.close();
  await irisUpstream.close();
});
beforeEach(() => upstream.reset());
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

// A window far longer than any test: batches close by reaching their row cap, not by the clock, so what is asserted
// about batch composition does not depend on how fast this machine is.
const NEVER = { BATCH_WINDOW_MS: 600_000 };

async function gateway(env: Record<string, string>, up: FakeUpstream = upstream, overrides = {}) {
  const app = testApp(
    { SCHEMA_PATH: up === upstream ? REGRESSOR : IRIS, UPSTREAM_URL: up.url, BATCH_ENABLED: 'true', ...env },
    {},
    overrides,
  );
  const server = await listen(app);
  servers.push(server);
  return { app, url: server.url };
}

describe('micro-batching', () => {
  it('sends concurrent single-row requests as one upstream batch and gives each caller its own row', async () => {
    const { url, app } = await gateway({ BATCH_MAX_ROWS: '12' }, upstream, NEVER);
    const rows = Array.from({ length: 12 }, (_, i) => house(i));
    const answers = await Promise.all(
      rows.map((row, i) => postJson(url, { instances: [row] }, { 'x-request-id': `caller-${i}` })),
    );

    expect(upstream.calls).toHaveLength(1);
    expect(upstream.calls[0]!.rows).toHaveLength(12);
    expect(upstream.calls[0]!.requestId).toMatch(/^batch-/);
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-request-id')).toBe(`caller-${i}`);
      expect(answer.body).toEqual({
        predictions: [echoPrediction(regressor, rows[i]!).prediction],
        model: { name: 'house-price-regressor', version: '9e8d7c6b5a43' },
      });
    });
    const metrics = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': API_KEY } })).text();
    expect(metrics).toMatch(/gateway_batch_size_rows_count 1/);
    expect(metrics).toMatch(/gateway_batch_size_rows_sum 12/);
    expect(app.gateway.inFlight()).toBe(0);
  });

  it('classifiers: each caller gets its own probabilities row and the classes', async () => {
    irisUpstream.calls.length = 0;
    const { url } = await gateway({ BATCH_MAX_ROWS: '8' }, irisUpstream, NEVER);
    const rows = Array.from({ length: 8 }, (_, i) => irisRow(4.5 + i * 0.4));
    const answers = await Promise.all(rows.map((row) => postJson(url, { instances: [row] })));
    expect(irisUpstream.calls).toHaveLength(1);
    answers.forEach((answer, i) => {
      const expected = echoPrediction(iris, rows[i]!);
      expect(answer.body['predictions']).toEqual([expected.prediction]);
      expect(answer.body['probabilities']).toEqual([expected.probabilities]);
      expect(answer.body['classes']).toEqual(['setosa', 'versicolor', 'virginica']);
    });
  });

  it('splits at the row cap: 25 callers with a cap of 10 make batches of at most 10 rows, all answered correctly', async () => {
    const { url } = await gateway({ BATCH_WINDOW_MS: '50', BATCH_MAX_ROWS: '10' });
    const rows = Array.from({ length: 25 }, (_, i) => house(i));
    const answers = await Promise.all(rows.map((row) => postJson(url, { instances: [row] })));
    expect(upstream.calls.every((c) => c.rows.length <= 10)).toBe(true);
    expect(upstream.calls.reduce((n, c) => n + c.rows.length, 0)).toBe(25);
    answers.forEach((a, i) => {
      expect(a.body['predictions']).toEqual([echoPrediction(regressor, rows[i]!).prediction]);
    });
  });

  it('a failed batch fails every member with the mapped error', async () => {
    const { url } = await gateway({ BATCH_MAX_ROWS: '5', UPSTREAM_RETRIES: '0' }, upstream, NEVER);
    upstream.fallback = { kind: 'status', status: 500 };
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => postJson(url, { instances: [house(i)] })));
    expect(upstream.calls).toHaveLength(1);
    for (const a of answers) {
      expect(a.status).toBe(502);
      expect(a.body['type']).toBe('urn:sci-eb:problem:upstream-error');
    }
  });

  it('a batch past the deadline gives every member 504', async () => {
    const { url } = await gateway({ BATCH_MAX_ROWS: '3', REQUEST_DEADLINE_MS: '300' }, upstream, NEVER);
    upstream.fallback = { kind: 'hang' };
    const answers = await Promise.all(Array.from({ length: 3 }, (_, i) => postJson(url, { instances: [house(i)] })));
    expect(answers.map((a) => a.status)).toEqual([504, 504, 504]);
  });

  it('when the upstream rejects a batch (4xx), each member is asked alone and gets its own answer', async () => {
    const { url } = await gateway({ BATCH_MAX_ROWS: '4' }, upstream, NEVER);
    upstream.script = [{ kind: 'status', status: 422 }];
    const rows = Array.from({ length: 4 }, (_, i) => house(i));
    const answers = await Promise.all(rows.map((row) => postJson(url, { instances: [row] })));
    expect(upstream.calls.map((c) => c.rows.length)).toEqual([4, 1, 1, 1, 1]);
    answers.forEach((a, i) => {
      expect(a.body['predictions']).toEqual([echoPrediction(regressor, rows[i]!).prediction]);
    });
  });

  it('multi-row requests bypass the batcher and go upstream as they are', async () => {
    const { url } = await gateway({ BATCH_MAX_ROWS: '64' }, upstream, NEVER);
    const rows = [house(1), house(2), house(3)];
    const answer = await postJson(url, { instances: rows });
    expect(answer.status).toBe(200);
    expect(upstream.calls).toEqual([{ requestId: answer.headers.get('x-request-id'), rows }]);
  });

  it('BATCH_ENABLED=false sends every request on its own', async () => {
    const { url } = await gateway({ BATCH_ENABLED: 'false' });
    await Promise.all(Array.from({ length: 6 }, (_, i) => postJson(url, { instances: [house(i)] })));
    expect(upstream.calls.map((c) => c.rows.length)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('drain sends rows still waiting for their window and waits for their answers', async () => {
    // A window far longer than the test: only drain() can send these rows.
    const calls: number[] = [];
    const batcher = new MicroBatcher({
      windowMs: 60_000,
      maxRows: 64,
      metrics: createMetrics(regressor.model),
      logger: silentLogger,
      predictor: {
        predict: async (rows) => {
          calls.push(rows.length);
          return {
            body: { predictions: rows.map((r) => r['area_m2'] as number), model: regressor.model },
            modelVersion: 'v',
          };
        },
      },
    });
    const pending = Promise.all([
      batcher.submit(house(1), { requestId: 'a', deadline: Date.now() + 5000 }),
      batcher.submit(house(2), { requestId: 'b', deadline: Date.now() + 5000 }),
    ]);
    expect(batcher.waiting).toBe(2);
    expect(calls).toEqual([]);
    await batcher.drain();
    expect(calls).toEqual([2]);
    expect((await pending).map((r) => r.body.predictions)).toEqual([[51], [52]]);
  });
});

describe("micro-batching answers each caller as the service answers its row alone, an after_predict hook's keys too", () => {
  /** A caller's answer as text, and the service's answer to the same row sent alone, straight to the upstream. */
  async function gatewayText(url: string, row: Record<string, unknown>) {
    const r = await fetch(`${url}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ instances: [row] }),
    });
    expect(r.status).toBe(200);
    return r.text();
  }
  async function aloneText(up: FakeUpstream, row: Record<string, unknown>) {
    const r = await fetch(`${up.url}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [row] }),
    });
    return r.text();
  }

  it("per-row keys (one item per row) get the caller's item, top-level keys come whole, in the service's order", async () => {
    // What application.py's after_predict may do: a key before the contract's, per-row values (scalars and objects),
    // top-level values (a number, an object, an array whose length is not the batch's), the answer's own keys kept.
    upstream.afterPredict = (body, rows) => ({
      scoredBy: 'hook',
      ...body,
      threshold: 0.5,
      bands: { low: 0, high: 100 },
      labels: (body['predictions'] as number[]).map((p) => (p > 60 ? 'high' : 'low')),
      inputs: rows.map((r) => ({ area: r['area_m2'] })),
      cutoffs: [10, 20, 30],
    });
    const { url } = await gateway({ BATCH_MAX_ROWS: '12' }, upstream, NEVER);
    const rows = Array.from({ length: 12 }, (_, i) => house(i));
    const batched = await Promise.all(rows.map((row) => gatewayText(url, row)));
    expect(upstream.calls.map((c) => c.rows.length)).toEqual([12]);
    const alone = await Promise.all(rows.map((row) => aloneText(upstream, row)));
    expect(batched).toEqual(alone); // byte for byte, member order included
    expect(JSON.parse(batched[0]!)).toEqual({
      scoredBy: 'hook',
      predictions: [echoPrediction(regressor, rows[0]!).prediction],
      model: { name: 'house-price-regressor', version: '9e8d7c6b5a43' },
      threshold: 0.5,
      bands: { low: 0, high: 100 },
      labels: [(echoPrediction(regressor, rows[0]!).prediction as number) > 60 ? 'high' : 'low'],
      inputs: [{ area: 50 }],
      cutoffs: [10, 20, 30],
    });
  });

  it('classes stay whole even when there are as many as rows in the batch; probabilities are per row', async () => {
    irisUpstream.calls.length = 0;
    irisUpstream.afterPredict = (body) => ({
      ...body,
      confident: (body['probabilities'] as number[][]).map((p) => p[0]! > 0.05),
    });
    try {
      const { url } = await gateway({ BATCH_MAX_ROWS: '3' }, irisUpstream, NEVER);
      const rows = [irisRow(4.6), irisRow(5.4), irisRow(6.2)];
      const batched = await Promise.all(rows.map((row) => gatewayText(url, row)));
      expect(irisUpstream.calls.map((c) => c.rows.length)).toEqual([3]);
      expect(batched).toEqual(await Promise.all(rows.map((row) => aloneText(irisUpstream, row))));
      expect(JSON.parse(batched[1]!)['classes']).toEqual(['setosa', 'versicolor', 'virginica']);
    } finally {
      irisUpstream.afterPredict = undefined;
    }
  });

  it("a batch of one is the service's answer as it came, bytes included", async () => {
    // Python's formatting, not JavaScript's: 64.0, 1e-05 and spaces survive only if the text is passed on.
    const text =
      '{"predictions": [64.0], "model": {"name": "house-price-regressor", "version": "9e8d7c6b5a43"}, "p": 1e-05}';
    upstream.fallback = { kind: 'status', status: 200, contentType: 'application/json', body: text };
    const { url } = await gateway({ BATCH_WINDOW_MS: '1', BATCH_MAX_ROWS: '12' });
    expect(await gatewayText(url, house(1))).toBe(text);
    expect(upstream.calls.map((c) => c.rows.length)).toEqual([1]);
  });

  it('memberAnswer keeps a member named __proto__ as a member', () => {
    const body = JSON.parse(
      '{"predictions":[1,2],"model":{"name":"m","version":"v"},"__proto__":{"polluted":true},"per":[{"a":1},{"a":2}]}',
    );
    const own = memberAnswer(body, 2, 1);
    expect(JSON.stringify(own)).toBe(
      '{"predictions":[2],"model":{"name":"m","version":"v"},"__proto__":{"polluted":true},"per":[{"a":2}]}',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
