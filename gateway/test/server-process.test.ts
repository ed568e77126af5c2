import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, eventually, irisRow } from './helpers/app.js';
import { echoPrediction, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { sha256Hex } from '../src/auth.js';
import { loadModelSchema } from '../src/schema/load.js';

const SERVER = resolve(import.meta.dirname, '..', 'dist', 'server.js');

interface Running {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  exit: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run "npm run build" first (npm test does)`);
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

/** dist/server.js on a free port against the fake upstream, batching on with a 1 s window; resolves once it listens. */
async function startListening(env: Record<string, string>) {
  const running = start({
    HOST: '127.0.0.1',
    PORT: '0',
    SCHEMA_PATH: IRIS,
    UPSTREAM_URL: upstream.url,
    API_KEY_HASHES: sha256Hex(API_KEY),
    BATCH_ENABLED: 'true',
    BATCH_WINDOW_MS: '1000',
    LOG_LEVEL: 'debug',
    ...env,
  });
  children.push(running.child);
  expect(await eventually(() => running.lines.some((l) => l['msg'] === 'listening'), { tries: 200, everyMs: 25 })).toBe(
    true,
  );
  const port = running.lines.find((l) => l['msg'] === 'listening')!['port'] as number;
  const url = `http://127.0.0.1:${port}/v1/predict`;
  const post = (rows: unknown[], id: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-request-id': id },
      body: JSON.stringify({ instances: rows }),
    });
  return { running, port, url, post };
}

describe('dist/server.js as a process', () => {
  it('writes log lines in blocks, yet a lone request shows in stdout within a second', async () => {
    const { running, post } = await startListening({ BATCH_ENABLED: 'false', LOG_LEVEL: 'info' });
    const answered = await post([irisRow()], 'lone-request-1');
    expect(answered.status).toBe(200);
    const logged = () => running.lines.some((l) => l['msg'] === 'request completed' && l['reqId'] === 'lone-request-1');
    expect(await eventually(logged, { tries: 40, everyMs: 25 })).toBe(true);
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
  });

  it('on SIGTERM answers requests in flight and queued in a micro-batch, then exits 0', async () => {
    const { running, post } = await startListening({ DRAIN_TIMEOUT_MS: '10000' });

    // A two-row request sits at a slow upstream; a one-row request waits in the batch window.
    upstream.fallback = { kind: 'slow', delayMs: 700 };
    const inFlight = post([irisRow(5), irisRow(6)], 'in-flight-1');
    expect(
      await eventually(() => upstream.calls.some((c) => c.requestId === 'in-flight-1'), { tries: 200, everyMs: 10 }),
    ).toBe(true);
    const queued = post([irisRow(7)], 'queued-1');
    expect(
      await eventually(
        () => running.lines.some((l) => l['msg'] === 'queued for micro-batch' && l['requestId'] === 'queued-1'),
        { tries: 200, everyMs: 10 },
      ),
    ).toBe(true);

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

  it('on SIGTERM answers every caller: batches in flight, rows waiting in a batch window, a multi-row request and a body still uploading; then exits 0', async () => {
    const schema = loadModelSchema(IRIS);
    const { running, port, url, post } = await startListening({ BATCH_MAX_ROWS: '3', DRAIN_TIMEOUT_MS: '15000' });
    const queued = (id: string) =>
      running.lines.some((l) => l['msg'] === 'queued for micro-batch' && l['requestId'] === id);
    const rowsAtUpstream = () => upstream.calls.reduce((n, c) => n + c.rows.length, 0);
    const callsBefore = upstream.calls.length;
    upstream.fallback = { kind: 'slow', delayMs: 800 };

    // Every caller has its own row, so a mix-up or a lost row shows.
    let n = 0;
    const nextRow = () => irisRow(4 + (n++ % 40) / 10 + 0.01);
    const sent = new Map<string, Array<Record<string, number>>>();
    const answers = new Map<string, Promise<Response>>();
    const send = (id: string, rows: Array<Record<string, number>>) => {
      sent.set(id, rows);
      answers.set(id, post(rows, id));
    };
    // 0. A caller still uploading its body: headers and half the body now, the rest after SIGTERM. Sent first, so
    //    its headers have long been read when SIGTERM comes (the drain's inFlight count below confirms it).
    const slowRow = nextRow();
    const slowBody = JSON.stringify({ instances: [slowRow] });
    sent.set('slow-upload', [slowRow]);
    const socket = net.connect(port, '127.0.0.1');
    let slowAnswer = '';
    socket.on('data', (d: Buffer) => (slowAnswer += d.toString('utf8')));
    const slowClosed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.write(
      `POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: ${API_KEY}\r\nX-Request-Id: slow-upload\r\nContent-Length: ${slowBody.length}\r\n\r\n` +
        slowBody.slice(0, 20),
    );
    // 1. Three single rows fill a batch (BATCH_MAX_ROWS=3), which goes to the slow upstream at once.
    const rowsBefore = rowsAtUpstream();
    for (let i = 0; i < 3; i++) send(`first-${i}`, [nextRow()]);
    // 2. A two-row request bypasses the batcher and is in flight too.
    send('multi', [nextRow(), nextRow()]);
    expect(await eventually(() => rowsAtUpstream() - rowsBefore === 5, { tries: 300, everyMs: 10 })).toBe(true);
    // 3. Five more: three make a second batch in flight, two wait for a window that is far from over.
    for (let i = 0; i < 5; i++) send(`later-${i}`, [nextRow()]);
    expect(
      await eventually(() => [0, 1, 2, 3, 4].every((i) => queued(`later-${i}`)), { tries: 300, everyMs: 10 }),
    ).toBe(true);

    running.child.kill('SIGTERM');
    expect(
      await eventually(() => running.lines.some((l) => l['msg'] === 'draining'), { tries: 300, everyMs: 10 }),
    ).toBe(true);
    const draining = running.lines.find((l) => l['msg'] === 'draining')!;
    expect(draining['inFlight']).toBe(10);
    // The listener is closed: nobody new gets in.
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
    // (write, not end: Node's server drops a request whose client half-closes the connection)
    socket.write(slowBody.slice(20));

    for (const [id, rows] of sent) {
      if (id === 'slow-upload') continue;
      const res = await answers.get(id)!;
      expect(res.status, id).toBe(200);
      expect(res.headers.get('x-request-id')).toBe(id);
      expect(((await res.json()) as { predictions: unknown[] }).predictions, id).toEqual(
        rows.map((r) => echoPrediction(schema, r).prediction),
      );
    }
    // The drain ends by closing every connection left, this one included.
    await slowClosed;
    expect(slowAnswer).toMatch(/^HTTP\/1\.1 200 /);
    expect(slowAnswer).toContain(JSON.stringify([echoPrediction(schema, slowRow).prediction]));
    expect(await running.exit).toBe(0);
    expect(running.lines.some((l) => l['msg'] === 'stopped' && l['drained'] === true)).toBe(true);
    // Every row went upstream exactly once.
    const seen = upstream.calls.slice(callsBefore).flatMap((c) => c.rows.map((r) => JSON.stringify(r)));
    expect(seen.sort()).toEqual(
      [...sent.values()]
        .flat()
        .map((r) => JSON.stringify(r))
        .sort(),
    );
    upstream.fallback = { kind: 'ok' };
  });

  it('at LOG_LEVEL=trace, stdout and stderr carry neither submitted values nor API keys', async () => {
    const LIVE_KEY = 'sk-live-PROCESS-LOG-4e5f6a7b8c';
    const WRONG_KEY = 'sk-wrong-PROCESS-LOG-0d1c2b';
    const VALUE = 4.3219876;
    const running = start({
      HOST: '127.0.0.1',
      PORT: '0',
      SCHEMA_PATH: IRIS,
      UPSTREAM_URL: upstream.url,
      API_KEY_HASHES: sha256Hex(LIVE_KEY),
      LOG_LEVEL: 'trace',
      BATCH_WINDOW_MS: '5',
    });
    children.push(running.child);
    const raw: string[] = [];
    running.child.stdout!.on('data', (d: Buffer) => raw.push(d.toString('utf8')));
    expect(
      await eventually(() => running.lines.some((l) => l['msg'] === 'listening'), { tries: 200, everyMs: 25 }),
    ).toBe(true);
    const port = running.lines.find((l) => l['msg'] === 'listening')!['port'] as number;
    const post = (payload: string, headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/v1/predict?key=${LIVE_KEY}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: payload,
      });
    const row = { ...irisRow(), petal_length: VALUE };
    const statuses = await Promise.all([
      post(JSON.stringify({ instances: [row] }), { 'x-api-key': LIVE_KEY }),
      post(JSON.stringify({ instances: [row] }), { authorization: `Bearer ${LIVE_KEY}` }),
      post(JSON.stringify({ instances: [{ ...row, sepal_width: String(VALUE) }] }), { 'x-api-key': LIVE_KEY }),
      post(`{"instances":[{"petal_length":${VALUE}`, { 'x-api-key': LIVE_KEY }),
      post(JSON.stringify({ instances: [row] }), { 'x-api-key': WRONG_KEY }),
      post(JSON.stringify({ instances: [row] }), { authorization: `Bearer ${WRONG_KEY}` }),
    ]).then((all) => all.map((r) => r.status));
    expect(statuses).toEqual([200, 200, 422, 400, 401, 401]);
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
    const output = raw.join('') + running.stderr.join('');
    expect(output).toContain('"statusCode":422');
    for (const secret of [LIVE_KEY, WRONG_KEY, 'PROCESS-LOG', String(VALUE), '3219876'])
      expect(output, secret).not.toContain(secret);
  });

  it('exits non-zero naming each bad variable', async () => {
    const running = start({ UPSTREAM_URL: 'not a url', PORT: '70000', BATCH_WINDOW_MS: 'soon' });
    children.push(running.child);
    expect(await running.exit).toBe(1);
    const message = running.stderr.join('');
    for (const name of ['UPSTREAM_URL', 'PORT', 'BATCH_WINDOW_MS', 'API_KEY_HASHES']) expect(message).toContain(name);
  });

  it('exits non-zero with the path when schema.json is missing or broken', async () => {
    const running = start({
      UPSTREAM_URL: upstream.url,
      ALLOW_ANONYMOUS: 'true',
      SCHEMA_PATH: '/nonexistent/schema.json',
      PORT: '0',
    });
    children.push(running.child);
    expect(await running.exit).toBe(1);
    expect(running.stderr.join('')).toContain('/nonexistent/schema.json');
  });
});
