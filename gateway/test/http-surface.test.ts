import http from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, MIXED, REGRESSOR, irisRow, listen, testApp } from './helpers/app.js';
import { rawRequest, type RawAnswer } from './helpers/raw-http.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { loadModelSchema } from '../src/schema/load.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(() => upstream.close());

describe('security headers', () => {
  it('sets a strict set on API answers and no X-Powered-By', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .send({ instances: [irisRow()] });
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'content-security-policy': expect.stringContaining("default-src 'none'"),
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
    });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('problems carry the same headers', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const res = await request(app).post('/v1/predict').send({});
    expect(res.status).toBe(401);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-model-version']).toBe('3f2a9c0d41b7');
  });
});

describe('CORS', () => {
  const origin = 'https://app.example.com';

  it('answers preflights from listed origins and exposes the headers a frontend needs', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, CORS_ORIGINS: `${origin},https://admin.example.com` });
    const preflight = await request(app)
      .options('/v1/predict')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,x-api-key');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(origin);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/X-API-Key/i);

    const res = await request(app)
      .post('/v1/predict')
      .set('Origin', origin)
      .set('X-API-Key', API_KEY)
      .send({ instances: [irisRow()] });
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    const exposed = String(res.headers['access-control-expose-headers']).split(',');
    expect(exposed).toEqual(
      expect.arrayContaining(['X-Request-Id', 'X-Model-Version', 'RateLimit', 'RateLimit-Policy', 'Retry-After']),
    );
  });

  it('gives other origins no CORS headers, and is off entirely by default', async () => {
    const listed = testApp({ UPSTREAM_URL: upstream.url, CORS_ORIGINS: origin });
    const other = await request(listed)
      .post('/v1/predict')
      .set('Origin', 'https://evil.example.net')
      .set('X-API-Key', API_KEY)
      .send({ instances: [irisRow()] });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const none = testApp({ UPSTREAM_URL: upstream.url });
    const res = await request(none)
      .post('/v1/predict')
      .set('Origin', origin)
      .set('X-API-Key', API_KEY)
      .send({ instances: [irisRow()] });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('metrics', () => {
  it('exposes Prometheus text by route template with upstream, retry, breaker and batch series', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .send({ instances: [irisRow()] });
    await request(app).post('/v1/predict').set('X-API-Key', API_KEY).send({ instances: [] });
    await request(app).get('/no/such/path/12345');
    const res = await request(app).get('/metrics').set('X-API-Key', API_KEY);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('gateway_http_requests_total{method="POST",route="/v1/predict",status="200"} 1');
    expect(res.text).toContain('gateway_http_requests_total{method="POST",route="/v1/predict",status="422"} 1');
    expect(res.text).toContain('gateway_http_requests_total{method="GET",route="unmatched",status="404"} 1');
    expect(res.text).not.toContain('12345');
    expect(res.text).toMatch(
      /gateway_http_request_duration_seconds_bucket\{le="0.05",method="POST",route="\/v1\/predict",status="200"\}/,
    );
    expect(res.text).toMatch(/gateway_upstream_request_duration_seconds_count\{outcome="ok"\} 1/);
    for (const name of [
      'gateway_upstream_retries_total',
      'gateway_upstream_breaker_state 0',
      'gateway_batch_size_rows',
      'gateway_model_info{name="iris-classifier",version="3f2a9c0d41b7"} 1',
    ]) {
      expect(res.text).toContain(name);
    }
  });
});

describe('schema and OpenAPI', () => {
  it('GET /v1/schema returns what callers need, not how the model was made', async () => {
    const app = testApp({ SCHEMA_PATH: MIXED, UPSTREAM_URL: upstream.url });
    const res = await request(app).get('/v1/schema').set('X-API-Key', API_KEY);
    expect(res.status).toBe(200);
    const file = loadModelSchema(MIXED);
    expect(file.model['sha256']).toMatch(/^[0-9a-f]{64}$/); // in the file, for whoever deploys it
    expect(res.body).toEqual({
      schemaVersion: 1,
      model: { name: file.model.name, version: file.model.version, task: file.model.task },
      features: file.features,
      target: file.target,
      limits: file.limits,
    });
    for (const field of ['sha256', 'sklearnVersion', 'trainedAt', 'metrics', 'trustedTypes', 'estimator', 'artifact'])
      expect(res.text).not.toContain(field);
    const openapi = (await request(app).get('/openapi.json')).text;
    for (const field of ['sklearnVersion', 'trainedAt', 'trustedTypes']) expect(openapi).not.toContain(field);
  });

  function refsOf(node: unknown, found: string[] = []): string[] {
    if (Array.isArray(node)) for (const n of node) refsOf(n, found);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') found.push(v);
        else refsOf(v, found);
      }
    }
    return found;
  }

  it('/openapi.json says what the running gateway asks for: keys when it has hashes, none with ALLOW_ANONYMOUS=true', async () => {
    const operations = (doc: { paths: Record<string, Record<string, { security?: unknown[] }>> }) =>
      Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => ({ at: `${method} ${path}`, security: op.security ?? [] })),
      );
    const keyed = JSON.parse((await request(testApp({ UPSTREAM_URL: upstream.url })).get('/openapi.json')).text);
    expect(
      operations(keyed)
        .filter((o) => o.security.length > 0)
        .map((o) => o.at),
    ).toEqual(['post /v1/predict', 'get /v1/schema', 'get /metrics']);
    expect(Object.keys(keyed.components.securitySchemes).length).toBeGreaterThan(0);

    const anonymous = JSON.parse(
      (
        await request(testApp({ UPSTREAM_URL: upstream.url, API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' })).get(
          '/openapi.json',
        )
      ).text,
    );
    expect(operations(anonymous).filter((o) => o.security.length > 0)).toEqual([]);
    expect(anonymous.components.securitySchemes).toEqual({});
    expect(anonymous.info.description).toMatch(/without API keys/);
    // Only the security requirements differ.
    expect(Object.keys(anonymous.paths)).toEqual(Object.keys(keyed.paths));
    expect(anonymous.components.schemas).toEqual(keyed.components.schemas);
  });

  it.each([
    ['iris', IRIS],
    ['mixed', MIXED],
    ['regressor', REGRESSOR],
  ])('/openapi.json for the %s fixture is OpenAPI 3.1 whose schemas match the features', async (_name, path) => {
    const schema = loadModelSchema(path);
    const app = testApp({ SCHEMA_PATH: path, UPSTREAM_URL: upstream.url });
    const res = await request(app).get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.text);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe(schema.model.version);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/predict', '/v1/schema', '/health/live', '/health/ready', '/metrics']),
    );
    expect(doc.paths['/v1/predict'].post.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/PredictRequest',
    );
    // Keys on, rate limit off (testApp's defaults): a 401, no 429 (openapi-offline.test.ts has the other cases).
    expect(Object.keys(doc.paths['/v1/predict'].post.responses)).toEqual([
      '200',
      '400',
      '401',
      '413',
      '415',
      '422',
      '500',
      '502',
      '503',
      '504',
    ]);

    // Every $ref points at a component that exists.
    for (const ref of refsOf(doc)) {
      const name = ref.replace('#/components/schemas/', '');
      expect(doc.components.schemas[name], ref).toBeDefined();
    }

    const row = doc.components.schemas.FeatureRow;
    expect(row.type).toBe('object');
    expect(row.additionalProperties).toBe(false);
    expect(Object.keys(row.properties)).toEqual(schema.features.map((f) => f.name));
    expect(row.required).toEqual(schema.features.map((f) => f.name));
    for (const feature of schema.features) {
      const prop = row.properties[feature.name];
      const variants = prop.anyOf ?? [prop];
      const types = variants.flatMap((v: { type: string | string[] }) => (Array.isArray(v.type) ? v.type : [v.type]));
      expect(types.includes('null'), `${feature.name} nullable`).toBe(feature.nullable);
      if (feature.type === 'category') {
        expect(variants.find((v: { enum?: string[] }) => v.enum).enum).toEqual(feature.categories);
      } else {
        expect(types).toContain(feature.type);
      }
    }
    // The example row in the spec is itself valid.
    const example = row.examples[0];
    const check = await request(
      testApp({ SCHEMA_PATH: path, UPSTREAM_URL: upstream.url, API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' }),
    )
      .post('/v1/predict')
      .send({ instances: [example] });
    expect(check.status).not.toBe(422);

    const req = doc.components.schemas.PredictRequest;
    expect(req.properties.instances).toMatchObject({ type: 'array', minItems: 1, maxItems: schema.limits.maxRows });
    const predictions = doc.components.schemas.PredictResponse.properties.predictions.items;
    if (schema.target.type === 'category') expect(predictions.enum).toEqual(schema.target.classes);
    else expect(predictions.type).toBe('number');
  });
});

describe('docs page', () => {
  it('is served from local assets with a CSP that allows nothing from elsewhere', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const page = await request(app).get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).toContain('src="/docs/assets/docs.js"');
    expect(page.text).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of ['/docs/assets/docs.js', '/docs/assets/docs.css']) {
      const res = await request(app).get(asset);
      expect(res.status).toBe(200);
      expect(res.text).not.toMatch(/https?:\/\/(?!json-schema)/);
    }
    expect((await request(app).get('/docs/assets/../../package.json')).status).toBe(404);
  });
});

describe('the predict fast path', () => {
  // POST /v1/predict runs the middlewares without Express. The one spelling Express routes to the same handler is
  // an absolute-form request target (POST http://host/v1/predict, RFC 9112 3.2.2), which the fast path's exact
  // match leaves to Express: both must be indistinguishable to a caller.
  const comparable = (answer: RawAnswer) => {
    const { date: _date, 'x-request-id': _id, connection: _c, 'keep-alive': _k, ...headers } = answer.headers;
    const { requestId: _bodyId, ...body } = JSON.parse(answer.text) as Record<string, unknown>;
    return { status: answer.status, headers, body };
  };
  const json = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  const valid = JSON.stringify({ instances: [irisRow()] });
  const cases: Array<[string, Record<string, string>, string]> = [
    ['a prediction', json, valid],
    ['a validation error', json, JSON.stringify({ instances: [{ ...irisRow(), petal_width: 'wide' }] })],
    ['a wrong content type', { ...json, 'content-type': 'text/plain' }, '{"instances":[]}'],
    ['malformed JSON', json, '{"instances":'],
    ['no API key', { 'content-type': 'application/json' }, valid],
    ['a rate-limited caller', json, valid],
  ];

  it.each(cases)('%s: same status, headers and body as through Express', async (name, headers, body) => {
    const limited = name === 'a rate-limited caller';
    const env = {
      UPSTREAM_URL: upstream.url,
      CORS_ORIGINS: 'https://app.example.com',
      ...(limited ? { RATE_LIMIT_MAX: '1' } : {}),
    };
    const agent = new http.Agent({ keepAlive: false });
    const call = async (absolute: boolean) => {
      const server = await listen(testApp(env));
      try {
        const path = absolute ? `${server.url}/v1/predict` : '/v1/predict';
        const options = { method: 'POST', path, headers: { ...headers, origin: 'https://app.example.com' }, body };
        if (limited) await rawRequest(agent, server.url, options);
        return comparable(await rawRequest(agent, server.url, options));
      } finally {
        await server.close();
      }
    };
    const a = await call(false);
    const b = await call(true);
    expect(a).toEqual(b);
    expect(a.headers['access-control-allow-origin']).toBe('https://app.example.com');
    if (limited) expect(a.status).toBe(429);
    agent.destroy();
  });

  it('counts fast-path requests under the route template in /metrics', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    await request(app)
      .post('/v1/predict?debug=1')
      .set('X-API-Key', API_KEY)
      .send({ instances: [irisRow()] });
    await request(app).post('/v1/predict').set('X-API-Key', API_KEY).send({});
    const metrics = (await request(app).get('/metrics').set('X-API-Key', API_KEY)).text;
    expect(metrics).toContain('gateway_http_requests_total{method="POST",route="/v1/predict",status="200"} 1');
    expect(metrics).toContain('gateway_http_requests_total{method="POST",route="/v1/predict",status="422"} 1');
  });
});
