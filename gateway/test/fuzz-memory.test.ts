// Memory stays flat under thousands of hostile and valid requests: heapUsed after full GCs is compared before and
// after the load. Retaining a body, a request or response object, or a timer or listener whose closure holds one,
// shows as tens of MB over 2,500 requests (checked by planting such leaks in predict.ts: +85 to +111 MB); the bound
// is 6 MB against < 1 MB of noise. Runs in its own file so vitest gives it its own worker process.
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, listen, testApp } from './helpers/app.js';
import { startCountingUpstream, type CountingUpstream } from './helpers/counting-upstream.js';
import { problemDefects } from './helpers/contract-oracle.js';
import { rawRequest } from './helpers/raw-http.js';
import { loadModelSchema } from '../src/schema/load.js';
import type { GatewayApp } from '../src/app.js';

// --expose-gc at run time, so `npm test` needs no special node flags.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const schema = loadModelSchema(IRIS);
let upstream: CountingUpstream;
let app: GatewayApp;
let server: { url: string; close(): Promise<void> };
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

beforeAll(async () => {
  upstream = await startCountingUpstream(schema);
  app = testApp({ UPSTREAM_URL: upstream.url, BATCH_ENABLED: 'true', BATCH_WINDOW_MS: '2' });
  server = await listen(app);
});
afterAll(async () => {
  agent.destroy();
  await server.close();
  await upstream.close();
});

const row = (i: number) =>
  `{"sepal_length":${4 + (i % 40) / 10},"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}`;
const json = { 'content-type': 'application/json' };

// Built once: the point is what the gateway keeps, not what the client allocates.
const deep = Buffer.from(`{"instances":${'['.repeat(5_000)}${']'.repeat(5_000)}}`);
const manyErrors = Buffer.from(
  `{"instances":[${Array.from({ length: 60 }, (_, i) => `{"sepal_length":"v${i}","x":[1]}`).join(',')}],"__proto__":1}`,
);
const cutString = Buffer.from(`{"instances":[{"sepal_length":"${'x'.repeat(200_000)}"`);
const badUtf8 = Buffer.concat([
  Buffer.from('{"instances":[{"a":"'),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from('"}]}'),
]);
const tooLarge = Buffer.alloc(1_100_000, 0x20);
const gzipBomb = zlib.gzipSync(Buffer.alloc(3_000_000, 0x20));

type Kind = (i: number) => { body: Buffer; headers: Record<string, string>; status: number };
const light: Kind[] = [
  (i) => ({ body: Buffer.from(`{"instances":[${row(i)}]}`), headers: json, status: 200 }), // batched
  (i) => ({ body: Buffer.from(`{"instances":[${row(i)}]}`), headers: json, status: 200 }),
  (i) => ({
    body: Buffer.from(`{"instances":[${Array.from({ length: 40 }, (_, j) => row(i + j)).join(',')}]}`),
    headers: json,
    status: 200,
  }),
  () => ({ body: manyErrors, headers: json, status: 422 }),
  () => ({ body: deep, headers: json, status: 400 }), // nests too deep
  () => ({ body: badUtf8, headers: json, status: 400 }),
  (i) => ({ body: Buffer.from(`{"instances":[${row(i)}]}`), headers: { 'content-type': 'text/plain' }, status: 415 }),
];
const heavy: Record<number, Kind> = {
  7: () => ({ body: cutString, headers: json, status: 400 }),
  13: () => ({ body: tooLarge, headers: json, status: 413 }),
  17: () => ({ body: gzipBomb, headers: { ...json, 'content-encoding': 'gzip' }, status: 413 }),
};
/** The mix: answers of 200, 400, 413, 415 and 422; one request in seven is a 40-row batch, one in twenty ~1 MB. */
const kind = (i: number): Kind => heavy[i % 20] ?? light[i % light.length]!;

async function load(requests: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const i = next++;
      const { body, headers, status } = kind(i)(i);
      const answer = await rawRequest(agent, server.url, { body, headers: { 'x-api-key': API_KEY, ...headers } });
      if (answer.status !== status)
        throw new Error(`request ${i}: ${answer.status}, expected ${status}: ${answer.text.slice(0, 200)}`);
      if (status !== 200) {
        const defects = problemDefects(answer.status, answer.headers['content-type'] ?? null, answer.text);
        if (defects.length > 0) throw new Error(`request ${i}: ${defects.join('; ')}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

const MB = 1024 * 1024;

describe('memory under fuzz load', () => {
  it('heapUsed after GC does not grow over 2,500 hostile and valid requests (after a 500-request warm-up)', async () => {
    await load(500, 16);
    const before = await heapAfterGc();
    await load(2500, 16);
    const after = await heapAfterGc();
    expect(app.gateway.inFlight()).toBe(0);
    expect(upstream.invalid).toEqual([]);
    const growth = after - before;
    if (process.env['FUZZ_STATS']) console.log({ before: before / MB, after: after / MB, growth: growth / MB });
    // Noise here is under 1 MB; 6 MB over 2,500 requests catches any leak of 2.5 KB or more per request (a request
    // or response object, a body, an answer), while leaving room for allocator noise.
    expect(
      growth,
      `heapUsed grew by ${(growth / MB).toFixed(1)} MB (${(before / MB).toFixed(1)} -> ${(after / MB).toFixed(1)} MB)`,
    ).toBeLessThan(6 * MB);
  }, 60_000);
});
