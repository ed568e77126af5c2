import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { API_KEY, IRIS, OTHER_KEY, capturedLines, irisRow, testApp } from './helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { sha256Hex } from '../src/auth.js';
import { REDACT_PATHS } from '../src/logging.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(() => upstream.close());

const body = { instances: [irisRow()] };

describe('API keys', () => {
  it('accepts a configured key in X-API-Key or as a bearer token (scheme in any case)', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    expect((await request(app).post('/v1/predict').set('X-API-Key', API_KEY).send(body)).status).toBe(200);
    expect((await request(app).post('/v1/predict').set('Authorization', `Bearer ${OTHER_KEY}`).send(body)).status).toBe(
      200,
    );
    expect((await request(app).post('/v1/predict').set('Authorization', `bearer ${API_KEY}`).send(body)).status).toBe(
      200,
    );
  });

  it('accepts hashes configured in upper-case hex', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, API_KEY_HASHES: sha256Hex(API_KEY).toUpperCase() });
    expect((await request(app).post('/v1/predict').set('X-API-Key', API_KEY).send(body)).status).toBe(200);
  });

  it.each([
    ['no key', {}],
    ['an empty X-API-Key', { 'X-API-Key': '' }],
    ['a wrong key', { 'X-API-Key': 'not-the-key' }],
    ['the key in upper case', { 'X-API-Key': API_KEY.toUpperCase() }],
    ['the key percent-encoded', { 'X-API-Key': encodeURIComponent(API_KEY).replace(/-/g, '%2D') }],
    ['the key with a suffix', { 'X-API-Key': `${API_KEY}x` }],
    ['a prefix of the key', { 'X-API-Key': API_KEY.slice(0, -1) }],
    ['the hash instead of the key', { 'X-API-Key': sha256Hex(API_KEY) }],
    ['the key as Basic credentials', { Authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}` }],
    ['a bearer with two tokens', { Authorization: `Bearer ${API_KEY} ${API_KEY}` }],
    ['the key base64-encoded', { 'X-API-Key': Buffer.from(API_KEY).toString('base64') }],
  ])('rejects %s with 401 problem+json, before reaching the upstream', async (_name, headers) => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const before = upstream.calls.length;
    const res = await request(app)
      .post('/v1/predict')
      .set(headers as Record<string, string>)
      .send(body);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.body.type).toBe('urn:sci-eb:problem:unauthorized');
    expect(upstream.calls.length).toBe(before);
  });

  it('protects /v1/schema and /metrics, leaves health, the OpenAPI document and the docs open', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    expect((await request(app).get('/v1/schema')).status).toBe(401);
    expect((await request(app).get('/metrics')).status).toBe(401);
    expect((await request(app).get('/v1/schema').set('X-API-Key', API_KEY)).status).toBe(200);
    expect((await request(app).get('/health/live')).status).toBe(200);
    expect((await request(app).get('/health/ready')).status).toBe(200);
    expect((await request(app).get('/openapi.json')).status).toBe(200);
    expect((await request(app).get('/docs')).status).toBe(200);
  });

  it('runs without keys only when ALLOW_ANONYMOUS=true says so', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' });
    expect((await request(app).post('/v1/predict').send(body)).status).toBe(200);
  });
});

describe('logs', () => {
  it('carry the request id but never API keys, authorization headers or feature values', async () => {
    const { sink, lines } = capturedLines();
    const logger = pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    const app = testApp({ UPSTREAM_URL: upstream.url }, { logger });
    const row = { sepal_length: 6.123456, sepal_width: 3.98765, petal_length: 1.4, petal_width: 0.2 };
    await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('X-Request-Id', 'log-test-1')
      .send({ instances: [row] });
    await request(app)
      .post('/v1/predict')
      .set('Authorization', `Bearer ${OTHER_KEY}`)
      .send({ instances: [{ ...row, sepal_length: 'bad-value-777' }] });
    await request(app)
      .post('/v1/predict')
      .set('X-API-Key', 'wrong-key-555')
      .send({ instances: [row] });
    const log = lines.join('');
    expect(log).toContain('log-test-1');
    expect(log).toMatch(/"statusCode":200/);
    for (const secret of [API_KEY, OTHER_KEY, 'wrong-key-555', '6.123456', '3.98765', 'bad-value-777'])
      expect(log).not.toContain(secret);
  });

  it('leave out load-balancer and scraper polls, /health included', async () => {
    const { sink, lines } = capturedLines();
    const app = testApp({ UPSTREAM_URL: upstream.url }, { logger: pino({ level: 'debug' }, sink) });
    for (const path of ['/health', '/health/live', '/health/ready'])
      expect((await request(app).get(path)).status).toBeLessThan(600);
    expect((await request(app).get('/metrics').set('X-API-Key', API_KEY)).status).toBe(200);
    expect(lines.filter((l) => /"path":"\/(health|metrics)/.test(l))).toEqual([]);
    await request(app).get('/openapi.json');
    expect(lines.some((l) => l.includes('"path":"/openapi.json"'))).toBe(true);
  });
});
