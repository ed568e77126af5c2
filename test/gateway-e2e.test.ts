// The generated gateway in front of the generated Flask service, both real: the project is generated with
// --gateway, trained, its gateway installed by `make gateway` (npm ci + schema sync) and tested by its own
// `npm test`; gunicorn runs the Procfile's command; the gateway runs dist/server.js. Then: predictions through the
// gateway equal direct ones, invalid requests never reach Flask, and an upstream stopped and restarted under
// traffic gives clean errors, then recovers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER } from './helpers.js';
import { sharedVenv } from './venv.js';
import { acquirePort8000 } from './port-lock.js';

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });

const freePort = () => new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
});

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try { if (await check()) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('generated gateway in front of the generated Flask service', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gw-'));
  const project = path.join(work, 'wine-gw');
  let venv = '';
  let flask: ChildProcess | undefined;
  let flaskLog = '';
  let gateway: ChildProcess | undefined;
  let gatewayUrl = '';
  const flaskUrl = 'http://127.0.0.1:8000';

  const startFlask = async () => {
    const web = readFileSync(path.join(project, 'Procfile'), 'utf8').replace(/^web:\s*/, '').trim();
    flask = spawn('sh', ['-c', `exec ${web}`], { cwd: project, env: { ...process.env, PATH: `${venv}/bin:${process.env.PATH}` } });
    flask.stdout!.on('data', (d) => { flaskLog += d; });
    flask.stderr!.on('data', (d) => { flaskLog += d; });
    await until(async () => (await fetch(`${flaskUrl}/health`)).ok, 'gunicorn');
  };
  const stopFlask = async () => {
    if (!flask || flask.exitCode !== null) return;
    const exited = new Promise((r) => flask!.once('exit', r));
    flask.kill('SIGTERM');
    await exited;
  };
  let releasePort = () => {};
  const predictCalls = () => (flaskLog.match(/"POST \/v1\/predict /g) ?? []).length;

  beforeAll(async () => {
    run('node', [LAUNCHER, 'app', 'wine-gw', '--yes', '--skip-install', '--gateway', '--dataset', 'wine', '--estimator', 'logistic_regression'], work);
    venv = sharedVenv('app', [path.join(project, 'requirements-dev.txt')]);
    run('make', ['--no-print-directory', `VENV=${venv}`, 'train'], project);
    run('make', ['--no-print-directory', `VENV=${venv}`, 'gateway'], project);
    releasePort = await acquirePort8000();
    await startFlask();
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    gateway = spawn('node', ['dist/server.js'], {
      cwd: path.join(project, 'gateway'),
      env: { ...process.env, UPSTREAM_URL: flaskUrl, PORT: String(port), ALLOW_ANONYMOUS: 'true', BATCH_ENABLED: 'true', BATCH_WINDOW_MS: '5',
        BREAKER_RESET_MS: '500', BREAKER_MIN_REQUESTS: '5', REQUEST_DEADLINE_MS: '3000', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await until(async () => (await fetch(`${gatewayUrl}/health/ready`)).ok, 'the gateway to be ready');
  }, 900_000);

  afterAll(async () => {
    gateway?.kill('SIGTERM');
    await stopFlask();
    releasePort();
  });

  it('predictions through the gateway equal direct predictions, also when batched concurrently', async () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
    const rows = Array.from({ length: 24 }, (_, i) => Object.fromEntries(schema.features.map((f: { name: string; observedMin: number; observedMax: number }) =>
      [f.name, +(f.observedMin + ((i * 7) % 24 / 23) * (f.observedMax - f.observedMin)).toFixed(3)])));
    const direct = await (await post(`${flaskUrl}/v1/predict`, { instances: rows })).json();
    const single = await Promise.all(rows.map(async (row) => (await post(`${gatewayUrl}/v1/predict`, { instances: [row] })).json()));
    expect(single.map((r) => r.predictions[0])).toEqual(direct.predictions);
    single.forEach((r, i) => {
      // Batched with other callers' rows, BLAS may round the last bit differently: equal to 12 decimals.
      r.probabilities[0].forEach((p: number, j: number) => expect(p).toBeCloseTo(direct.probabilities[i][j], 12));
      expect(r.model).toEqual(direct.model);
    });
    const batch = await post(`${gatewayUrl}/v1/predict`, { instances: rows });
    expect(batch.headers.get('x-model-version')).toBe(schema.model.version);
    expect((await batch.json()).predictions).toEqual(direct.predictions);
  });

  it('an invalid request is answered by the gateway and never reaches Flask', async () => {
    // gunicorn's access log arrives asynchronously: let the earlier tests' lines land before counting.
    await until(async () => { const n = predictCalls(); await new Promise((r) => setTimeout(r, 500)); return predictCalls() === n; }, 'a quiet access log');
    const before = predictCalls();
    const r = await post(`${gatewayUrl}/v1/predict`, { instances: [{ alcohol: 'strong-SECRET' }] });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const body = await r.text();
    expect(body).not.toContain('strong-SECRET');
    expect(JSON.parse(body).errors.length).toBeGreaterThan(1); // the wrong type, and every missing feature
    await new Promise((res) => setTimeout(res, 300));
    expect(predictCalls()).toBe(before);
  });

  it('upstream stopped and restarted while requests flow: clean problem+json errors, then recovery', async () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
    const row = Object.fromEntries(schema.features.map((f: { name: string; observedMin: number }) => [f.name, f.observedMin]));
    await stopFlask();
    const during = await Promise.all(Array.from({ length: 12 }, () => post(`${gatewayUrl}/v1/predict`, { instances: [row] })));
    for (const r of during) {
      expect([502, 503, 504]).toContain(r.status);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await r.json()).status).toBe(r.status);
    }
    expect((await fetch(`${gatewayUrl}/health/ready`)).status).toBe(503);
    await startFlask();
    await until(async () => (await post(`${gatewayUrl}/v1/predict`, { instances: [row] })).ok, 'recovery through the gateway', 30_000);
    const after = await Promise.all(Array.from({ length: 8 }, () => post(`${gatewayUrl}/v1/predict`, { instances: [row] })));
    expect(after.map((r) => r.status)).toEqual(Array(8).fill(200));
  });

  // Last: it takes over a minute (the client package tests pack, install and compile), and the HTTP checks above
  // must not follow it, since fetch would reuse a keep-alive connection to gunicorn idle for longer than gunicorn
  // keeps it ("other side closed" on the direct POST, seen twice).
  it('the generated gateway passes its own npm test', () => {
    expect(run('npm', ['test', '--silent'], path.join(project, 'gateway'))).toMatch(/passed/);
  }, 600_000);
});
