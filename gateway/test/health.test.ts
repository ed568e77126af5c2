import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IRIS, testApp } from './helpers/app.js';
import { closedPort, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(() => upstream.close());
beforeEach(() => {
  upstream.modelVersion = '3f2a9c0d41b7';
  upstream.healthStatus = 200;
  upstream.healthWithoutModel = false;
});

const env = () => ({ UPSTREAM_URL: upstream.url, READY_CACHE_MS: '0' });

describe('health', () => {
  it('live is 200 without touching the upstream', async () => {
    const port = await closedPort();
    const app = testApp({ UPSTREAM_URL: `http://127.0.0.1:${port}` });
    const res = await request(app).get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', model: { name: 'iris-classifier', version: '3f2a9c0d41b7' } });
  });

  it('/health is the liveness answer too (the health path of the Flask service), GET only, no key', async () => {
    const port = await closedPort();
    const app = testApp({ UPSTREAM_URL: `http://127.0.0.1:${port}` });
    const live = await request(app).get('/health/live');
    const health = await request(app).get('/health');
    expect(health.status).toBe(200);
    expect(health.headers['content-type']).toBe(live.headers['content-type']);
    expect(health.body).toEqual(live.body);
    const post = await request(app).post('/health');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });

  it('ready is 200 when the upstream is healthy and serves the same model version', async () => {
    const app = testApp(env());
    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', model: { name: 'iris-classifier', version: '3f2a9c0d41b7' } });
  });

  it('ready is 503 naming both versions when the upstream serves another model', async () => {
    upstream.modelVersion = 'ffffffffffff';
    const app = testApp(env());
    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('urn:sci-eb:problem:not-ready');
    expect(res.body.detail).toContain('ffffffffffff');
    expect(res.body.detail).toContain('3f2a9c0d41b7');
  });

  it("ready is 503 when the service refuses the gateway's UPSTREAM_TOKEN, which would fail every prediction", async () => {
    upstream.schemaToken = 'the-services-own-token';
    try {
      const wrong = await request(testApp({ ...env(), UPSTREAM_TOKEN: 'not-the-services-token' })).get('/health/ready');
      expect(wrong.status).toBe(503);
      expect(wrong.body.detail).toMatch(
        /refused this gateway's UPSTREAM_TOKEN \(401 on \/v1\/schema\).*SERVICE_TOKENS/,
      );
      const right = await request(testApp({ ...env(), UPSTREAM_TOKEN: 'the-services-own-token' })).get('/health/ready');
      expect(right.status).toBe(200);
    } finally {
      upstream.schemaToken = undefined;
    }
  });

  it('asks /v1/schema when the health body does not name the model', async () => {
    upstream.healthWithoutModel = true;
    expect((await request(testApp(env())).get('/health/ready')).status).toBe(200);
    upstream.modelVersion = '000000000000';
    expect((await request(testApp(env())).get('/health/ready')).status).toBe(503);
  });

  it('ready is 503 when the upstream health check fails or nothing listens', async () => {
    upstream.healthStatus = 503;
    const failing = await request(testApp(env())).get('/health/ready');
    expect(failing.status).toBe(503);
    expect(failing.body.detail).toContain('503');
    const port = await closedPort();
    const down = await request(testApp({ UPSTREAM_URL: `http://127.0.0.1:${port}` })).get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.detail).toMatch(/cannot connect/);
  });

  it('caches the readiness result so load-balancer polls do not become upstream load', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, READY_CACHE_MS: '60000' });
    const before = upstream.healthHits;
    await Promise.all(Array.from({ length: 5 }, () => request(app).get('/health/ready')));
    await request(app).get('/health/ready');
    expect(upstream.healthHits - before).toBe(1);
  });

  it('ready turns 503 while draining', async () => {
    const app = testApp(env());
    expect(await app.gateway.drain(1000)).toBe(true);
    const res = await request(app).get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body.detail).toMatch(/shutting down/);
  });
});
