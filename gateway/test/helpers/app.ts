import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createApp, type AppDeps, type GatewayApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { sha256Hex } from '../../src/auth.js';

export const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures');
export const IRIS = resolve(FIXTURES, 'iris.schema.json');
export const MIXED = resolve(FIXTURES, 'mixed.schema.json');
export const REGRESSOR = resolve(FIXTURES, 'regressor.schema.json');
/** Every feature type of schemaVersion 2 and a classifier without probabilities (integer labels, decision scores). */
export const TYPED = resolve(FIXTURES, 'typed.schema.json');
export const OUTLIER = resolve(FIXTURES, 'outlier.schema.json');
export const CLUSTERS = resolve(FIXTURES, 'clusters.schema.json');

export const API_KEY = 'test-key-4f8b1c2d9e7a';
export const OTHER_KEY = 'second-key-0a9b8c7d';

export const silentLogger = pino({ level: 'silent' });

/** A log destination that keeps every line written to it (one entry per line), for tests that read the logs. */
export function capturedLines(): { sink: Writable; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { sink, lines };
}

/** Environment as an operator would write it, so tests go through the same parsing as production. */
export function testConfig(env: Record<string, string>, overrides: Partial<Config> = {}): Config {
  return loadConfig(
    {
      SCHEMA_PATH: IRIS,
      UPSTREAM_URL: 'http://127.0.0.1:9',
      API_KEY_HASHES: `${sha256Hex(API_KEY)},${sha256Hex(OTHER_KEY)}`,
      RATE_LIMIT_MAX: '0',
      BATCH_ENABLED: 'false',
      RETRY_BASE_MS: '5',
      RETRY_MAX_MS: '20',
      ...env,
    },
    overrides,
  );
}

const apps: GatewayApp[] = [];

/** `overrides` bypass the environment parsing, for values outside what an operator may set (e.g. huge windows). */
export function testApp(env: Record<string, string>, deps: AppDeps = {}, overrides: Partial<Config> = {}): GatewayApp {
  const app = createApp(testConfig(env, overrides), { logger: silentLogger, ...deps });
  apps.push(app);
  return app;
}

export async function closeApps(): Promise<void> {
  await Promise.all(apps.splice(0).map((app) => app.gateway.close()));
}

export const irisRow = (n = 5.1) => ({ sepal_length: n, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 });

/** A real listening server, for tests that need many concurrent connections or a connection to drop. */
export async function listen(app: GatewayApp): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

/** Polls until `check` holds, a bounded number of times; returns whether it did. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  { tries = 100, everyMs = 20 } = {},
): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
