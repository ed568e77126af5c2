import { spawn, type ChildProcess } from 'node:child_process';
import { createClient } from '@redis/client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, OTHER_KEY, eventually, irisRow, testApp } from './helpers/app.js';
import { REDIS_SERVER_HINT, findOnPath } from './helpers/programs.js';
import { closedPort, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { createRedisStore } from '../src/ratelimit.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(() => upstream.close());

const body = { instances: [irisRow()] };
const predict = (app: Parameters<typeof request>[0], headers: Record<string, string> = { 'X-API-Key': API_KEY }) =>
  request(app).post('/v1/predict').set(headers).send(body);

describe('rate limits (in-memory store)', () => {
  it('answers 429 problem+json with draft-8 RateLimit headers and Retry-After once a key has used its budget', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
    for (let i = 0; i < 3; i++) {
      const ok = await predict(app);
      expect(ok.status).toBe(200);
      expect(ok.headers['ratelimit-policy']).toMatch(/^"3-in-1min"; q=3; w=60/);
    }
    const before = upstream.calls.length;
    const limited = await predict(app);
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body.type).toBe('urn:sci-eb:problem:rate-limited');
    expect(limited.headers['ratelimit']).toMatch(/r=0; t=\d+/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(upstream.calls.length).toBe(before);
    // Another key has its own budget; health is never limited.
    expect((await predict(app, { 'X-API-Key': OTHER_KEY })).status).toBe(200);
    expect((await request(app).get('/health/live')).status).toBe(200);
  });

  it("counts a key per client address: a leaked key spends only its holder's budget, never its other users'", async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '2', TRUST_PROXY: '1' });
    const from = (address: string) => ({ 'X-API-Key': API_KEY, 'X-Forwarded-For': address });
    // The key leaked from a browser app: someone at 203.0.113.66 exhausts it...
    for (let i = 0; i < 2; i++) expect((await predict(app, from('203.0.113.66'))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await predict(app, from('203.0.113.66'))).status).toBe(429);
    // ...and the key's real users elsewhere still have theirs.
    expect((await predict(app, from('198.51.100.10'))).status).toBe(200);
    expect((await predict(app, from('198.51.100.11'))).status).toBe(200);
  });

  it('without a shared store, each of RATE_LIMIT_INSTANCES instances allows its share: two together never exceed the limit', async () => {
    const env = { UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '10', RATE_LIMIT_INSTANCES: '2' };
    const [a, b] = [testApp(env), testApp(env)];
    // A client whose requests the load balancer spreads over both instances, in any order.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await predict(i % 3 === 0 ? a : b)).status);
    expect(statuses.filter((s) => s === 200).length).toBe(10);
    expect((await predict(a)).headers['ratelimit-policy']).toMatch(/^"5-in-1min"; q=5; w=60/);
    // One instance alone (RATE_LIMIT_INSTANCES=1, the default, e.g. locally) has the whole budget.
    const single = testApp({ UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '10' });
    for (let i = 0; i < 10; i++) expect((await predict(single)).status).toBe(200);
    expect((await predict(single)).status).toBe(429);
  });

  it('limits anonymous callers by client address, taken from X-Forwarded-For only as far as TRUST_PROXY says', async () => {
    const anonymous = { API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true', RATE_LIMIT_MAX: '1', UPSTREAM_URL: upstream.url };
    const behindLb = testApp({ ...anonymous, TRUST_PROXY: '1' });
    expect((await predict(behindLb, { 'X-Forwarded-For': '203.0.113.7' })).status).toBe(200);
    expect((await predict(behindLb, { 'X-Forwarded-For': '203.0.113.7' })).status).toBe(429);
    expect((await predict(behindLb, { 'X-Forwarded-For': '198.51.100.9' })).status).toBe(200);

    // Without a trusted proxy, a forged X-Forwarded-For does not buy a fresh budget.
    const direct = testApp(anonymous);
    expect((await predict(direct, { 'X-Forwarded-For': '203.0.113.7' })).status).toBe(200);
    expect((await predict(direct, { 'X-Forwarded-For': '198.51.100.9' })).status).toBe(429);
  });
});

describe('rate limits shared through a real Redis', () => {
  let redisProcess: ChildProcess | undefined;
  let redisPort = 0;
  // Set once redis-server has started: with it missing, afterAll has no client to close.
  let client: ReturnType<typeof createClient> | undefined;
  const redis = () => {
    if (!client) throw new Error(REDIS_SERVER_HINT);
    return client;
  };

  beforeAll(async () => {
    const binary = findOnPath('redis-server');
    // The hint from a constant: vitest shows the throwing line of source too, cut at the terminal's width.
    if (!binary) throw new Error(REDIS_SERVER_HINT);
    redisPort = await closedPort();
    redisProcess = spawn(
      binary,
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    client = createClient({ url: `redis://127.0.0.1:${redisPort}`, disableOfflineQueue: true });
    const started = client;
    started.on('error', () => undefined);
    const up = await eventually(
      async () => {
        try {
          if (!started.isOpen) await started.connect();
          return (await started.ping()) === 'PONG';
        } catch {
          return false;
        }
      },
      { tries: 100, everyMs: 50 },
    );
    if (!up) throw new Error(`redis-server did not start on 127.0.0.1:${redisPort}`);
  });

  afterAll(async () => {
    if (client?.isOpen) await client.close().catch(() => undefined);
    redisProcess?.kill('SIGTERM');
  });

  it('two gateway instances share one budget per key', async () => {
    const env = { UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
    const a = testApp(env, { rateLimitStore: createRedisStore(redis(), 'test-shared:') });
    const b = testApp(env, { rateLimitStore: createRedisStore(redis(), 'test-shared:') });
    expect((await predict(a)).status).toBe(200);
    expect((await predict(b)).status).toBe(200);
    expect((await predict(a)).status).toBe(200);
    const limited = await predict(b);
    expect(limited.status).toBe(429);
    expect(limited.body.type).toBe('urn:sci-eb:problem:rate-limited');
    expect((await predict(a)).status).toBe(429);
    // The counter really is in Redis.
    const keys = await redis().keys('test-shared:*');
    expect(keys.length).toBe(1);
    expect((await predict(b, { 'X-API-Key': OTHER_KEY })).status).toBe(200);
  });

  it('when Redis goes away: counts on each instance by default (limits hold, predictions flow); open or closed on request', async () => {
    const env = { UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '6', RATE_LIMIT_INSTANCES: '2' };
    const local = testApp(env, { rateLimitStore: createRedisStore(redis(), 'test-local:') });
    const open = testApp(
      { ...env, RATE_LIMIT_ON_STORE_ERROR: 'open' },
      { rateLimitStore: createRedisStore(redis(), 'test-open:') },
    );
    const closed = testApp(
      { ...env, RATE_LIMIT_FAIL_OPEN: 'false' }, // the older spelling of RATE_LIMIT_ON_STORE_ERROR=closed
      { rateLimitStore: createRedisStore(redis(), 'test-closed:') },
    );
    for (const app of [local, open, closed]) expect((await predict(app)).status).toBe(200);
    redisProcess!.kill('SIGTERM');
    expect(await eventually(() => !redis().isReady, { tries: 100, everyMs: 50 })).toBe(true);
    // local: this instance's share of 6 over 2 instances is 3.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await predict(local)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    for (let i = 0; i < 10; i++) expect((await predict(open)).status).toBe(200);
    const refused = await predict(closed);
    expect(refused.status).toBe(500);
    expect(refused.body.type).toBe('urn:sci-eb:problem:internal-error');
  });
});
