// The breaker's recovery probe: while open, the upstream's /health is asked (one request at a time, each bounded by
// its timeout) and the first healthy answer closes the breaker, long before BREAKER_RESET_MS.
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, closeApps, eventually, irisRow, testApp } from './helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { loadConfig } from '../src/config.js';
import { createRecoveryProbe, probeDelay } from '../src/upstream/recovery-probe.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(() => upstream.close());
// Each test's gateway stops probing before the next test counts health requests.
beforeEach(async () => {
  await closeApps();
  upstream.reset();
});

const predict = (app: Parameters<typeof request>[0]) =>
  request(app)
    .post('/v1/predict')
    .set('X-API-Key', API_KEY)
    .send({ instances: [irisRow()] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A breaker that only the probe can close: the half-open fallback is a minute away. */
const probingApp = (env: Record<string, string> = {}) =>
  testApp({
    UPSTREAM_URL: upstream.url,
    UPSTREAM_RETRIES: '0',
    BREAKER_MIN_REQUESTS: '3',
    BREAKER_RESET_MS: '60000',
    BREAKER_PROBE_MS: '40',
    ...env,
  });

async function openBreaker(app: ReturnType<typeof probingApp>) {
  upstream.fallback = { kind: 'status', status: 500 };
  upstream.healthStatus = 503;
  for (let i = 0; i < 3; i++) expect((await predict(app)).status).toBe(502);
  expect(app.gateway.breaker.state()).toBe('open');
}

describe('recovery probe', () => {
  it('fails fast while the health endpoint says unhealthy, and closes as soon as it says healthy', async () => {
    const app = probingApp();
    await openBreaker(app);
    const predictCalls = upstream.calls.length;
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const res = await predict(app);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      await sleep(30);
    }
    const elapsed = Date.now() - started;
    // Predictions never reached the upstream; only health probes did, at most one per half interval.
    expect(upstream.calls.length).toBe(predictCalls);
    expect(upstream.healthHits).toBeGreaterThan(0);
    expect(upstream.healthHits).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 1);
    expect(app.gateway.breaker.state()).toBe('open');

    upstream.fallback = { kind: 'ok' };
    upstream.healthStatus = 200;
    const healthyAt = Date.now();
    expect(await eventually(() => app.gateway.breaker.state() === 'closed', { tries: 200, everyMs: 5 })).toBe(true);
    // One jittered interval (at most 1.5 x 40 ms) plus the probe's own round trip, nowhere near the 60 s reset.
    expect(Date.now() - healthyAt).toBeLessThan(500);
    expect((await predict(app)).status).toBe(200);
    const metrics = (await request(app).get('/metrics').set('X-API-Key', API_KEY)).text;
    expect(metrics).toMatch(/gateway_upstream_breaker_state 0/);
    expect(metrics).toMatch(/gateway_upstream_breaker_probes_total\{outcome="healthy"\} 1\n/);
    expect(metrics).toMatch(/gateway_upstream_breaker_probes_total\{outcome="unhealthy"\} [1-9]/);
  });

  it('sends one probe at a time, each abandoned at its timeout, against a hanging health endpoint', async () => {
    const app = probingApp({ BREAKER_PROBE_MS: '20', BREAKER_PROBE_TIMEOUT_MS: '100' });
    await openBreaker(app);
    upstream.healthDelayMs = 10_000;
    const hitsBefore = upstream.healthHits;
    const started = Date.now();
    await sleep(800);
    // Answers from the rest of the gateway do not wait for the probe.
    const t = Date.now();
    expect((await predict(app)).status).toBe(503);
    expect(Date.now() - t).toBeLessThan(200);
    const hits = upstream.healthHits - hitsBefore;
    expect(upstream.healthMaxInFlight).toBe(1);
    // Each probe takes its 100 ms timeout plus at least half an interval before the next one starts.
    expect(hits).toBeGreaterThanOrEqual(3);
    expect(hits).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 110) + 1);
    expect(app.gateway.breaker.state()).toBe('open');
  });

  it('starts the closed breaker afresh: failures from the outage do not reopen it at the first straggler', async () => {
    const app = probingApp();
    await openBreaker(app);
    upstream.healthStatus = 200;
    expect(await eventually(() => app.gateway.breaker.state() === 'closed', { tries: 200, everyMs: 5 })).toBe(true);
    // Still failing predictions (health lied, or a straggler): it takes BREAKER_MIN_REQUESTS again to reopen.
    expect((await predict(app)).status).toBe(502);
    expect((await predict(app)).status).toBe(502);
    expect(app.gateway.breaker.state()).toBe('closed');
    expect((await predict(app)).status).toBe(502);
    expect(app.gateway.breaker.state()).toBe('open');
  });

  it('BREAKER_PROBE_MS=0 leaves only the half-open attempt after BREAKER_RESET_MS', async () => {
    const app = probingApp({ BREAKER_PROBE_MS: '0' });
    await openBreaker(app);
    upstream.healthStatus = 200;
    const hits = upstream.healthHits;
    await sleep(300);
    expect(upstream.healthHits).toBe(hits);
    expect(app.gateway.breaker.state()).toBe('open');
    expect(app.gateway.breaker.probesSent()).toBe(0);
  });

  it('is on by default, every 250 ms with a 500 ms timeout', () => {
    const config = loadConfig({ UPSTREAM_URL: 'http://127.0.0.1:9', ALLOW_ANONYMOUS: 'true' });
    expect(config.BREAKER_PROBE_MS).toBe(250);
    expect(config.BREAKER_PROBE_TIMEOUT_MS).toBe(500);
  });
});

describe('health requests', () => {
  it.each(['undici', 'axios'])('do not queue behind predictions waiting for a socket (%s)', async (client) => {
    const app = testApp({
      UPSTREAM_URL: upstream.url,
      UPSTREAM_CLIENT: client,
      UPSTREAM_CONNECTIONS: '1',
      UPSTREAM_RETRIES: '0',
      REQUEST_DEADLINE_MS: '3000',
      READY_CACHE_MS: '0',
    });
    // The one prediction socket is held by a hanging upstream, and more predictions queue for it.
    upstream.fallback = { kind: 'hang' };
    const waiting = Array.from({ length: 3 }, () => predict(app).then((r) => r.status));
    expect(await eventually(() => upstream.calls.length === 1, { tries: 100, everyMs: 10 })).toBe(true);
    const started = Date.now();
    const ready = await request(app).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await Promise.all(waiting)).toEqual([504, 504, 504]);
  });
});

describe('createRecoveryProbe', () => {
  it('jitters the interval between 0.5x and 1.5x', () => {
    expect(probeDelay(200, () => 0)).toBe(100);
    expect(probeDelay(200, () => 0.999)).toBeCloseTo(299.8);
  });

  it('runs one loop however often it is started, and ignores a probe that settles after stop()', async () => {
    let pending: ((healthy: boolean) => void) | undefined;
    let inFlight = 0;
    let maxInFlight = 0;
    let healthy = 0;
    const probe = createRecoveryProbe({
      intervalMs: 10,
      random: () => 0,
      check: () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<boolean>((resolve) => {
          pending = (v) => {
            inFlight--;
            resolve(v);
          };
        });
      },
      onHealthy: () => healthy++,
    });
    probe.start();
    probe.start();
    expect(await eventually(() => pending !== undefined, { tries: 50, everyMs: 5 })).toBe(true);
    await sleep(50);
    expect(probe.sent()).toBe(1);
    pending!(false);
    pending = undefined;
    expect(await eventually(() => pending !== undefined, { tries: 50, everyMs: 5 })).toBe(true);
    expect(probe.sent()).toBe(2);
    probe.stop();
    pending!(true);
    await sleep(30);
    expect(healthy).toBe(0);
    expect(probe.probing()).toBe(false);
    expect(maxInFlight).toBe(1);

    probe.start();
    expect(await eventually(() => probe.sent() === 3, { tries: 50, everyMs: 5 })).toBe(true);
    pending!(true);
    expect(await eventually(() => healthy === 1, { tries: 50, everyMs: 5 })).toBe(true);
    expect(probe.probing()).toBe(false);
  });
});
