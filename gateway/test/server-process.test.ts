import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, eventually, irisRow } from './helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { sha256Hex } from '../src/auth.js';

const SERVER = resolve(import.meta.dirname, '..', 'dist', 'server.js');

interface Running {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  exit: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run "npm run build" first (npm test does)`);
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) if (part.trim()) lines.push(JSON.parse(part) as Record<string, unknown>);
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const exit = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, lines, stderr, exit };
}

let upstream: FakeUpstream;
const children: ChildProcess[] = [];
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await upstream.close();
});

describe('dist/server.js as a process', () => {
  it('on SIGTERM answers requests in flight and queued in a micro-batch, then exits 0', async () => {
    const running = start({
      HOST: '127.0.0.1',
      PORT: '0',
      SCHEMA_PATH: IRIS,
      UPSTREAM_URL: upstream.url,
      API_KEY_HASHES: sha256Hex(API_KEY),
      BATCH_ENABLED: 'true',
      BATCH_WINDOW_MS: '1000',
      LOG_LEVEL: 'debug',
      DRAIN_TIMEOUT_MS: '10000',
    });
    children.push(running.child);
    expect(await eventually(() => running.lines.some((l) => l['msg'] === 'listening'), { tries: 200, everyMs: 25 })).toBe(true);
    const port = running.lines.find((l) => l['msg'] === 'listening')!['port'] as number;
    const url = `http://127.0.0.1:${port}/v1/predict`;
    const post = (rows: unknown[], id: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-request-id': id }, body: JSON.stringify({ instances: rows }) });

    // A two-row request sits at a slow upstream; a one-row request waits in the batch window.
    upstream.fallback = { kind: 'slow', delayMs: 700 };
    const inFlight = post([irisRow(5), irisRow(6)], 'in-flight-1');
    expect(await eventually(() => upstream.calls.some((c) => c.requestId === 'in-flight-1'), { tries: 200, everyMs: 10 })).toBe(true);
    const queued = post([irisRow(7)], 'queued-1');
    expect(await eventually(() => running.lines.some((l) => l['msg'] === 'queued for micro-batch' && l['requestId'] === 'queued-1'), { tries: 200, everyMs: 10 })).toBe(true);

    running.child.kill('SIGTERM');
    const [a, b] = await Promise.all([inFlight, queued]);
    expect(a.status).toBe(200);
    expect(((await a.json()) as { predictions: unknown[] }).predictions).toHaveLength(2);
    expect(b.status).toBe(200);
    expect(b.headers.get('x-request-id')).toBe('queued-1');
    expect(await running.exit).toBe(0);
    expect(running.lines.some((l) => l['msg'] === 'stopped' && l['drained'] === true)).toBe(true);
    upstream.fallback = { kind: 'ok' };
  });

  it('exits non-zero naming each bad variable', async () => {
    const running = start({ UPSTREAM_URL: 'not a url', PORT: '70000', BATCH_WINDOW_MS: 'soon' });
    children.push(running.child);
    expect(await running.exit).toBe(1);
    const message = running.stderr.join('');
    for (const name of ['UPSTREAM_URL', 'PORT', 'BATCH_WINDOW_MS', 'API_KEY_HASHES']) expect(message).toContain(name);
  });

  it('exits non-zero with the path when schema.json is missing or broken', async () => {
    const running = start({ UPSTREAM_URL: upstream.url, ALLOW_ANONYMOUS: 'true', SCHEMA_PATH: '/nonexistent/schema.json', PORT: '0' });
    children.push(running.child);
    expect(await running.exit).toBe(1);
    expect(running.stderr.join('')).toContain('/nonexistent/schema.json');
  });
});
