import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, eventually, irisRow, listen, testApp } from './helpers/app.js';
import { closedPort, echoPrediction, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { loadModelSchema } from '../src/schema/load.js';

const schema = loadModelSchema(IRIS);
let upstream: FakeUpstream;

beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(() => upstream.close());
beforeEach(() => upstream.reset());

const predict = (app: Parameters<typeof request>[0], rows = [irisRow()]) =>
  request(app).post('/v1/predict').set('X-API-Key', API_KEY).send({ instances: rows });

describe('proxying', () => {
  it('passes the prediction through with request id both ways and the model version', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const rows = [irisRow(5.1), irisRow(6.3)];
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('X-Request-Id', 'frontend-req-42')
      .send({ instances: rows });
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('frontend-req-42');
    expect(res.headers['x-model-version']).toBe('3f2a9c0d41b7');
    expect(upstream.calls.at(-1)).toEqual({ requestId: 'frontend-req-42', rows });
    expect(res.body).toEqual({
      predictions: rows.map((r) => echoPrediction(schema, r).prediction),
      probabilities: rows.map((r) => echoPrediction(schema, r).probabilities),
      classes: ['setosa', 'versicolor', 'virginica'],
      model: { name: 'iris-classifier', version: '3f2a9c0d41b7' },
    });
  });

  it('makes a request id when none (or an unsafe one) is sent, and sends that one upstream', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const none = await predict(app);
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.calls.at(-1)?.requestId).toBe(none.headers['x-request-id']);
    const unsafe = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('X-Request-Id', 'a b<script>')
      .send({ instances: [irisRow()] });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes on the version the upstream reports, even when it differs from schema.json', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    upstream.modelVersion = '000000000000';
    const res = await predict(app);
    expect(res.status).toBe(200);
    expect(res.headers['x-model-version']).toBe('000000000000');
  });

  it('works with a base path in UPSTREAM_URL and with the axios client', async () => {
    // The fake only serves /v1/predict at the root, so a base path must be "/" here; the axios path is what is tested.
    const app = testApp({ UPSTREAM_URL: `${upstream.url}/`, UPSTREAM_CLIENT: 'axios' });
    const res = await predict(app);
    expect(res.status).toBe(200);
    expect(res.body.predictions).toEqual([echoPrediction(schema, irisRow()).prediction]);
  });

  it('passes an upstream 4xx problem through unchanged and does not retry it', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const problem = {
      type: 'urn:sci-eb:problem:validation-error',
      title: "The request does not match the model's feature schema",
      status: 422,
      detail: '1 problem; see errors',
      errors: [{ pointer: '/instances/0/petal_width', code: 'not_finite', detail: 'must be a finite number' }],
    };
    upstream.script = [{ kind: 'status', status: 422, body: JSON.stringify(problem) }];
    const before = upstream.calls.length;
    const res = await predict(app);
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject(problem);
    expect(upstream.calls.length - before).toBe(1);
  });
});

describe("the service's token (one public door)", () => {
  const TOKEN = 'gateway-token-0123456789abcdef';
  for (const client of ['undici', 'axios']) {
    it(`${client}: sends UPSTREAM_TOKEN as X-Service-Token on predictions, health and schema; never without one`, async () => {
      const app = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_CLIENT: client, UPSTREAM_TOKEN: TOKEN });
      expect((await predict(app)).status).toBe(200);
      expect(upstream.calls.at(-1)?.serviceToken).toBe(TOKEN);
      upstream.healthWithoutModel = true; // readiness then asks /v1/schema too
      expect((await request(app).get('/health/ready')).status).toBe(200);
      expect(upstream.controlToken).toBe(TOKEN);
      const open = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_CLIENT: client });
      expect((await predict(open)).status).toBe(200);
      expect(upstream.calls.at(-1)?.serviceToken).toBeUndefined();
    });
  }

  it("a 401 from the service is the gateway's misconfiguration: 502 upstream-error, never passed to the caller", async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_TOKEN: TOKEN });
    const refused = JSON.stringify({
      type: 'urn:sci-eb:problem:unauthorized',
      title: 'A valid API key is required',
      status: 401,
    });
    upstream.fallback = { kind: 'status', status: 401, body: refused };
    const res = await predict(app);
    expect(res.status).toBe(502);
    expect(res.body.type).toBe('urn:sci-eb:problem:upstream-error');
  });
});

describe('fault injection', () => {
  it('refused connection: 503 upstream-unavailable with Retry-After, after retrying', async () => {
    const port = await closedPort();
    const app = testApp({ UPSTREAM_URL: `http://127.0.0.1:${port}` });
    const res = await predict(app);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ type: 'urn:sci-eb:problem:upstream-unavailable', status: 503 });
    expect(res.headers['retry-after']).toBeDefined();
    const metrics = await request(app).get('/metrics').set('X-API-Key', API_KEY);
    expect(metrics.text).toMatch(/gateway_upstream_retries_total\{reason="connect"\} 2/);
  });

  it('slow upstream past the deadline: 504 upstream-timeout, not a hang', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, REQUEST_DEADLINE_MS: '200' });
    upstream.script = [{ kind: 'slow', delayMs: 3000 }];
    const res = await predict(app);
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ type: 'urn:sci-eb:problem:upstream-timeout', status: 504 });
  });

  it('an upstream that never answers is cut off at the deadline too, and is not retried', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, REQUEST_DEADLINE_MS: '200', UPSTREAM_RETRIES: '3' });
    upstream.script = [{ kind: 'hang' }];
    const before = upstream.calls.length;
    expect((await predict(app)).status).toBe(504);
    expect(upstream.calls.length - before).toBe(1);
  });

  it('a burst of 503s then recovery: retries make the request succeed', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_RETRIES: '2' });
    upstream.script = [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 503 },
    ];
    const before = upstream.calls.length;
    const res = await predict(app);
    expect(res.status).toBe(200);
    expect(upstream.calls.length - before).toBe(3);
    // Retries keep the caller's request id, so the upstream log shows one request tried three times.
    expect(new Set(upstream.calls.slice(before).map((c) => c.requestId)).size).toBe(1);
  });

  it('503s beyond the retry budget: 503 with the upstream Retry-After', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_RETRIES: '1' });
    upstream.script = [
      { kind: 'status', status: 503, headers: { 'retry-after': '0' } },
      { kind: 'status', status: 503, headers: { 'retry-after': '7' } },
    ];
    const res = await predict(app);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
  });

  it('502 and 504 are retried; 500 is not (and becomes 502)', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_RETRIES: '2' });
    upstream.script = [
      { kind: 'status', status: 502 },
      { kind: 'status', status: 504 },
    ];
    expect((await predict(app)).status).toBe(200);
    upstream.script = [{ kind: 'status', status: 500 }];
    const before = upstream.calls.length;
    const res = await predict(app);
    expect(res.status).toBe(502);
    expect(res.body.type).toBe('urn:sci-eb:problem:upstream-error');
    expect(upstream.calls.length - before).toBe(1);
  });

  it('a connection reset mid-response is retried, and reported as 502 when it persists', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_RETRIES: '1' });
    upstream.script = [{ kind: 'reset' }];
    expect((await predict(app)).status).toBe(200);
    upstream.script = [{ kind: 'reset' }, { kind: 'reset' }];
    const res = await predict(app);
    expect(res.status).toBe(502);
    expect(res.body.type).toBe('urn:sci-eb:problem:upstream-error');
  });

  it('answers that break the contract become 502 (invalid JSON, wrong number of predictions)', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    upstream.script = [{ kind: 'bad-json' }, { kind: 'wrong-length' }];
    expect((await predict(app)).status).toBe(502);
    const res = await predict(app);
    expect(res.status).toBe(502);
    expect(JSON.stringify(res.body)).not.toMatch(/oops|stack/);
  });

  it('a non-problem 4xx from the upstream (e.g. a proxy page) is an upstream error, not passed through', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    upstream.script = [{ kind: 'status', status: 413, contentType: 'text/html', body: '<html>too large</html>' }];
    const res = await predict(app);
    expect(res.status).toBe(502);
  });
});

describe('callers that hang up', () => {
  it('abort the upstream call, and do not count against the breaker', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, BREAKER_MIN_REQUESTS: '1' });
    const server = await listen(app);
    try {
      upstream.script = [{ kind: 'hang' }];
      const before = upstream.calls.length;
      const abandonedBefore = upstream.abandoned;
      const caller = new AbortController();
      const pending = fetch(`${server.url}/v1/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
        body: JSON.stringify({ instances: [irisRow()] }),
        signal: caller.signal,
      }).catch((err: unknown) => err);
      expect(await eventually(() => upstream.calls.length > before)).toBe(true);
      caller.abort();
      await pending;
      expect(await eventually(() => upstream.abandoned > abandonedBefore)).toBe(true);
      expect(await eventually(() => app.gateway.inFlight() === 0)).toBe(true);
      expect(app.gateway.breaker.state()).toBe('closed');
      expect((await predict(app)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('circuit breaker', () => {
  it('opens after repeated failures, fails fast with Retry-After without calling upstream, then closes after recovery', async () => {
    const app = testApp({
      UPSTREAM_URL: upstream.url,
      UPSTREAM_RETRIES: '0',
      BREAKER_MIN_REQUESTS: '3',
      BREAKER_ERROR_PERCENT: '50',
      BREAKER_RESET_MS: '300',
      // Only opossum's half-open is under test here; the health probe has its own file (breaker.test.ts).
      BREAKER_PROBE_MS: '0',
    });
    upstream.fallback = { kind: 'status', status: 500 };
    for (let i = 0; i < 3; i++) expect((await predict(app)).status).toBe(502);
    expect(app.gateway.breaker.state()).toBe('open');

    const before = upstream.calls.length;
    const rejected = await predict(app);
    expect(rejected.status).toBe(503);
    expect(rejected.body.type).toBe('urn:sci-eb:problem:upstream-unavailable');
    expect(Number(rejected.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(upstream.calls.length).toBe(before);
    const metrics = await request(app).get('/metrics').set('X-API-Key', API_KEY);
    expect(metrics.text).toMatch(/gateway_upstream_breaker_state 2/);
    expect(metrics.text).toMatch(/gateway_upstream_breaker_rejections_total 1/);

    // The upstream recovers; after the reset time a half-open probe goes through and closes the breaker.
    upstream.fallback = { kind: 'ok' };
    const recovered = await eventually(async () => (await predict(app)).status === 200, { tries: 100, everyMs: 50 });
    expect(recovered).toBe(true);
    expect(app.gateway.breaker.state()).toBe('closed');
    expect((await request(app).get('/metrics').set('X-API-Key', API_KEY)).text).toMatch(
      /gateway_upstream_breaker_state 0/,
    );
  });

  it('a probe that fails reopens the breaker', async () => {
    const app = testApp({
      UPSTREAM_URL: upstream.url,
      UPSTREAM_RETRIES: '0',
      BREAKER_MIN_REQUESTS: '2',
      BREAKER_RESET_MS: '200',
      BREAKER_PROBE_MS: '0',
    });
    upstream.fallback = { kind: 'status', status: 500 };
    for (let i = 0; i < 2; i++) await predict(app);
    expect(app.gateway.breaker.state()).toBe('open');
    expect(await eventually(() => app.gateway.breaker.state() === 'half-open', { tries: 100, everyMs: 20 })).toBe(true);
    expect((await predict(app)).status).toBe(502);
    expect(app.gateway.breaker.state()).toBe('open');
  });

  it('client errors (4xx problems) do not open the breaker', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, UPSTREAM_RETRIES: '0', BREAKER_MIN_REQUESTS: '2' });
    upstream.fallback = { kind: 'status', status: 422 };
    for (let i = 0; i < 5; i++) expect((await predict(app)).status).toBe(422);
    expect(app.gateway.breaker.state()).toBe('closed');
  });
});
