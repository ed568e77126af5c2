// The generated gateway in front of the generated Flask service, both real: the project is generated with
// --gateway, trained, its gateway installed by `make gateway` (npm ci + schema sync) and tested by its own
// `npm test`; its application.py gets an after_predict hook that adds keys of its own, per row and top-level, as a
// user's does; gunicorn runs the Procfile's command; the gateway runs dist/server.js. Then: predictions through the
// gateway, batched or not, are the service's answers for the same rows, the hook's keys included; invalid requests
// never reach Flask; and an upstream stopped and restarted under traffic gives clean errors, then recovers.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBundle, expectOnlyAllowed, plantSecrets } from './helpers.js';
import {
  acquirePort8000,
  freePort,
  prepareProject,
  sharedVenv,
  startGateway,
  startGunicorn,
  type Gateway,
  type Gunicorn,
  type PreparedProject,
} from '../harness/index.mjs';

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 900_000 });

/** Polls `check` until it is true; `failed()` naming a reason (what was awaited has exited) ends the wait at once. */
async function until(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  failed: () => string | undefined = () => undefined,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reason = failed();
    if (reason !== undefined) throw new Error(reason);
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** A small seeded PRNG (mulberry32): the parity corpus is the same on every run, so a mismatch can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ParityCase {
  label: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** Requests both servers must answer alike: the edge cases docs/contract.md decides, then seeded random mutations. */
function parityCorpus(schema: {
  features: Array<{ name: string; type: string; categories?: string[]; observedMin?: number; observedMax?: number }>;
  limits: { maxRows: number };
}): ParityCase[] {
  const row = () =>
    Object.fromEntries(
      schema.features.map((f) => [
        f.name,
        f.type === 'category' ? f.categories![0] : ((f.observedMin ?? 0) + (f.observedMax ?? 0)) / 2,
      ]),
    );
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const valid = json({ instances: [row()] });
  const deep = (n: number, closed = true) =>
    Buffer.from(`{"instances":[${'['.repeat(n)}1${closed ? ']'.repeat(n) : ''}]}`);
  const cases: ParityCase[] = [
    { label: 'BOM', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), valid]) },
    { label: 'two BOMs', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), valid]) },
    ...[
      'application/json; charset=utf-8',
      'application/json;charset=UTF8',
      'application/json; charset="utf-8"',
      'Application/JSON',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'text/plain',
      'application/problem+json',
      '',
      'application/json ; charset = utf-8',
      'application/json;\tcharset=latin1',
    ].map((type) => ({
      label: `content-type ${type}`,
      headers: { 'content-type': type.replace('\\t', '\t') },
      body: valid,
    })),
    { label: 'gzip', headers: { 'content-encoding': 'gzip' }, body: gzipSync(valid) },
    {
      label: 'gzip, two members',
      headers: { 'content-encoding': 'gzip' },
      body: Buffer.concat([gzipSync(valid.subarray(0, 9)), gzipSync(valid.subarray(9))]),
    },
    { label: 'GZIP', headers: { 'content-encoding': 'GZIP' }, body: gzipSync(valid) },
    { label: 'deflate', headers: { 'content-encoding': 'deflate' }, body: deflateSync(valid) },
    { label: 'gzip, corrupt', headers: { 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all') },
    { label: 'gzip, truncated', headers: { 'content-encoding': 'gzip' }, body: gzipSync(valid).subarray(0, 12) },
    { label: 'gzip, empty', headers: { 'content-encoding': 'gzip' }, body: Buffer.alloc(0) },
    {
      label: 'gzip of invalid rows',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync(json({ instances: [{ x: 1 }] })),
    },
    ...['br', 'x-gzip', 'gzip, gzip', 'compress', 'identity'].map((e) => ({
      label: `content-encoding ${e}`,
      headers: { 'content-encoding': e },
      body: e === 'br' ? brotliCompressSync(valid) : valid,
    })),
    { label: 'NaN', body: Buffer.from(valid.toString().replace(/:[-0-9.]+/, ':NaN')) },
    { label: 'Infinity', body: Buffer.from(valid.toString().replace(/:[-0-9.]+/, ':-Infinity')) },
    { label: '1e400', body: Buffer.from(valid.toString().replace(/:[-0-9.]+/, ':1e400')) },
    {
      label: 'a 5,000-digit integer',
      body: Buffer.from(valid.toString().replace(/:[-0-9.]+/, `:1${'0'.repeat(5000)}`)),
    },
    { label: 'depth 32', body: deep(29) },
    { label: 'depth 33', body: deep(30) },
    { label: 'depth 5000', body: deep(5000) },
    { label: 'depth 5000, unclosed', body: deep(5000, false) },
    { label: 'brackets in a string', body: json({ instances: [{ x: '['.repeat(100) }] }) },
    { label: 'empty', body: Buffer.alloc(0) },
    { label: 'not JSON', body: Buffer.from('instances=1') },
    { label: 'trailing garbage', body: Buffer.concat([valid, Buffer.from('x')]) },
    { label: 'bad UTF-8', body: Buffer.from([0x7b, 0xff, 0x7d]) },
    { label: 'lone surrogate key', body: Buffer.from('{"instances":[{"\\ud800":1}]}') },
    { label: 'non-ASCII key', body: json({ instances: [{ ...row(), café: 1, '\u{1f600}': 2, '\uffff': 3 }] }) },
    { label: 'integer-like keys', body: json({ instances: [{ ...row(), 10: 1, 9: 1, b: 1, a: 1 }], 2: 1, z: 1 }) },
    {
      label: '__proto__',
      body: Buffer.from(`{"instances":[${JSON.stringify(row()).slice(0, -1)},"__proto__":{"x":1}}],"constructor":1}`),
    },
    {
      label: 'too many rows',
      body: json({ instances: Array.from({ length: schema.limits.maxRows + 1 }, () => ({})) }),
    },
    { label: 'no rows', body: json({ instances: [] }) },
    { label: 'no instances', body: json({ rows: [row()] }) },
    { label: 'instances not an array', body: json({ instances: { 0: row() } }) },
    { label: 'document an array', body: json([row()]) },
    { label: 'duplicate keys', body: Buffer.from(`{"instances":3,"instances":[${JSON.stringify(row())}]}`) },
    {
      label: '40,000 unknown members',
      body: json({ instances: [Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, 0]))] }),
    },
    { label: 'valid, 3 rows', body: json({ instances: [row(), row(), row()] }) },
    // maxRows full rows hold the most ':' a valid request can; one member more is refused unparsed (Cheap refusals)
    { label: 'maxRows full rows', body: json({ instances: Array.from({ length: schema.limits.maxRows }, row) }) },
    {
      label: "maxRows full rows and one ':' more",
      body: Buffer.from(
        `${JSON.stringify({ instances: Array.from({ length: schema.limits.maxRows }, row) }).slice(0, -3)},"":1}]}`,
      ),
    },
    ...['/v1/predict/', '/V1/Predict', '//v1/predict', '/v1/%70redict', '/v1/predict?x=1', '/nowhere'].map((p) => ({
      label: `path ${p}`,
      path: p,
      body: valid,
    })),
    ...(
      [
        ['GET', '/v1/predict'],
        ['PUT', '/v1/predict'],
        ['POST', '/v1/schema'],
        ['DELETE', '/v1/schema'],
      ] as const
    ).map(([method, p]) => ({ label: `${method} ${p}`, method, path: p, body: method === 'GET' ? undefined : valid })),
  ];
  const random = prng(20261201);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const values = [null, true, 'x', '', [], {}, [1], 1.5, -0, 3.5e38, 1e39, 0, 2 ** 53 + 1, 'setosa'];
  const keys = ['extra', '', '/', '~', 'a/b~c', '__proto__', 'constructor', '7', 'Z', 'é', 'toString'];
  for (let i = 0; i < 300; i++) {
    const rows = Array.from({ length: 1 + Math.floor(random() * 3) }, row) as Array<Record<string, unknown> | unknown>;
    for (let k = Math.floor(random() * 4); k > 0; k--) {
      const at = Math.floor(random() * rows.length);
      const target = rows[at] as Record<string, unknown>;
      const action = pick(['set', 'set', 'delete', 'add', 'replace']);
      if (action === 'replace') rows[at] = pick(values);
      else if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
      else if (action === 'set') target[pick(schema.features).name] = pick(values);
      else if (action === 'delete') delete target[pick(schema.features).name];
      else target[pick(keys)] = pick(values);
    }
    const document: Record<string, unknown> = { instances: rows };
    if (random() < 0.2) document[pick(keys)] = pick(values);
    if (random() < 0.05) document['instances'] = pick(values);
    cases.push({ label: `random ${i}`, body: json(document) });
  }
  return cases;
}

/**
 * What a user's after_predict may add (README, "The hooks"): a key before the contract's, per-row keys (one item per
 * row: scalars and objects), top-level keys (a number, an object). The gateway must answer with them as the service
 * does for the same request, batched or not.
 */
const AFTER_PREDICT = `def after_predict(answer, frame):
    per_row = [{"best": max(p)} for p in answer["probabilities"]]
    return dict(
        {"scoredBy": "after_predict"},
        **answer,
        threshold=0.5,
        confident=[max(p) > 0.5 for p in answer["probabilities"]],
        detail=per_row,
        calibration={"method": "none", "classes": len(answer["classes"])},
    )
`;

describe('generated gateway in front of the generated Flask service', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gw-'));
  const project = path.join(work, 'wine-gw');
  const logDir = path.join(work, 'logs');
  let prepared: PreparedProject;
  let ebcliVenv = '';
  let flask: Gunicorn | undefined;
  let gateway: Gateway | undefined;
  let gatewayUrl = '';
  const flaskUrl = 'http://127.0.0.1:8000';

  const startFlask = async () => {
    flask = await startGunicorn(prepared, { logDir });
  };
  const stopFlask = async () => {
    await flask?.stop();
  };
  let releasePort = () => {};
  const predictCalls = () => (flask!.output().match(/ method=POST route=\/v1\/predict /g) ?? []).length;

  beforeAll(async () => {
    prepared = prepareProject({
      parent: work,
      name: 'wine-gw',
      args: ['--yes', '--gateway', '--dataset', 'wine', '--estimator', 'logistic_regression'],
    });
    const application = readFileSync(path.join(project, 'application.py'), 'utf8').replace(
      /def after_predict\(answer, frame\):[\s\S]*?return answer\n/,
      AFTER_PREDICT,
    );
    expect(application).toContain('"scoredBy"');
    writeFileSync(path.join(project, 'application.py'), application);
    run('make', ['--no-print-directory', `VENV=${prepared.venv}`, 'gateway'], project);
    ebcliVenv = sharedVenv('ebcli', [path.join(project, 'requirements-ebcli.txt')]);
    // Held from here to the end: while Flask is stopped and restarted below, no other suite may take the port.
    releasePort = await acquirePort8000();
    await startFlask();
    // The gateway as generated (its own schema.json), but anonymous (no keys in a test) and without the per-address
    // rate limit (this file sends more from one address in a minute than the default budget allows a client); quieter logs.
    gateway = await startGateway({
      cwd: path.join(project, 'gateway'),
      upstreamUrl: flaskUrl,
      env: { LOG_LEVEL: 'warn' },
      logDir,
      ready: '/health/ready',
    });
    gatewayUrl = gateway.url;
  }, 900_000);

  afterAll(async () => {
    await gateway?.stop();
    await stopFlask();
    releasePort();
  });

  it('predictions through the gateway equal direct predictions, also when batched concurrently', async () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
    const rows = Array.from({ length: 24 }, (_, i) =>
      Object.fromEntries(
        schema.features.map((f: { name: string; observedMin: number; observedMax: number }) => [
          f.name,
          +(f.observedMin + (((i * 7) % 24) / 23) * (f.observedMax - f.observedMin)).toFixed(3),
        ]),
      ),
    );
    const direct = await (await post(`${flaskUrl}/v1/predict`, { instances: rows })).json();
    const single = await Promise.all(
      rows.map(async (row) => (await post(`${gatewayUrl}/v1/predict`, { instances: [row] })).json()),
    );
    expect(single.map((r) => r.predictions[0])).toEqual(direct.predictions);
    single.forEach((r, i) => {
      // Batched with other callers' rows, BLAS may round the last bit differently: equal to 12 decimals.
      r.probabilities[0].forEach((p: number, j: number) => {
        expect(p).toBeCloseTo(direct.probabilities[i][j], 12);
      });
      expect(r.model).toEqual(direct.model);
    });
    const batch = await post(`${gatewayUrl}/v1/predict`, { instances: rows });
    expect(batch.headers.get('x-model-version')).toBe(schema.model.version);
    expect((await batch.json()).predictions).toEqual(direct.predictions);
  });

  it("the after_predict hook's keys come through the gateway as the service answers them, one-row requests batched or not", async () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
    const rows = Array.from({ length: 16 }, (_, i) =>
      Object.fromEntries(
        schema.features.map((f: { name: string; observedMin: number; observedMax: number }) => [
          f.name,
          +(f.observedMin + (((i * 5) % 16) / 15) * (f.observedMax - f.observedMin)).toFixed(3),
        ]),
      ),
    );
    // What the service answers each row alone: the answer a caller must get from the gateway.
    const alone = await Promise.all(
      rows.map(async (row) => (await post(`${flaskUrl}/v1/predict`, { instances: [row] })).json()),
    );
    expect(Object.keys(alone[0])).toEqual([
      'scoredBy',
      'predictions',
      'probabilities',
      'classes',
      'model',
      'threshold',
      'confident',
      'detail',
      'calibration',
    ]);
    await until(async () => {
      const n = predictCalls();
      await new Promise((r) => setTimeout(r, 500));
      return predictCalls() === n;
    }, 'a quiet request log');
    const calls = predictCalls();
    const batched = await Promise.all(
      rows.map(async (row) => (await post(`${gatewayUrl}/v1/predict`, { instances: [row] })).json()),
    );
    await new Promise((r) => setTimeout(r, 500)); // the service's request log lines land asynchronously
    expect(predictCalls() - calls).toBeLessThan(rows.length); // some were batched together
    batched.forEach((answer, i) => {
      const expected = alone[i];
      expect(Object.keys(answer)).toEqual(Object.keys(expected)); // the same members, in the service's order
      // Batched with other rows, BLAS may round the last bit of a probability differently: equal to 12 decimals.
      answer.probabilities[0].forEach((p: number, j: number) => {
        expect(p).toBeCloseTo(expected.probabilities[0][j], 12);
      });
      expect(answer.detail[0].best).toBeCloseTo(expected.detail[0].best, 12);
      const { probabilities: _p, detail: _d, ...rest } = answer;
      const { probabilities: _ep, detail: _ed, ...expectedRest } = expected;
      expect(rest).toEqual(expectedRest);
    });
    // Many rows at once bypass the batcher: the service's answer passed on as it is, byte for byte.
    const many = { instances: rows.slice(0, 5) };
    const [fromFlask, fromGateway] = await Promise.all([
      post(`${flaskUrl}/v1/predict`, many).then((r) => r.text()),
      post(`${gatewayUrl}/v1/predict`, many).then((r) => r.text()),
    ]);
    expect(fromGateway).toBe(fromFlask);
    expect(JSON.parse(fromGateway).confident).toHaveLength(5);
  });

  it('Flask and the gateway answer every request alike, byte for byte, with a hook adding keys (the contract is one file)', async () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
    const corpus = parityCorpus(schema);
    const mismatches: string[] = [];
    let problems = 0;
    for (const [i, c] of corpus.entries()) {
      const send = async (base: string) => {
        const r = await fetch(base + (c.path ?? '/v1/predict'), {
          method: c.method ?? 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': `parity-${i}`, ...c.headers },
          ...(c.body ? { body: new Uint8Array(c.body) } : {}),
        });
        return {
          status: r.status,
          type: (r.headers.get('content-type') ?? '').split(';')[0],
          allow: r.headers.get('allow'),
          body: await r.text(),
        };
      };
      const [flaskAnswer, gatewayAnswer] = [await send(flaskUrl), await send(gatewayUrl)];
      // Predictions too (the after_predict hook's keys included): sent one at a time, a one-row request is a batch of
      // one, and the service's answer comes back as it is.
      const same =
        flaskAnswer.status === gatewayAnswer.status &&
        flaskAnswer.type === gatewayAnswer.type &&
        flaskAnswer.allow === gatewayAnswer.allow &&
        flaskAnswer.body === gatewayAnswer.body;
      if (flaskAnswer.status !== 200) problems++;
      if (!same)
        mismatches.push(
          `${c.label}:\n  flask   ${flaskAnswer.status} ${flaskAnswer.allow ?? ''} ${flaskAnswer.body.slice(0, 400)}\n  gateway ${gatewayAnswer.status} ${gatewayAnswer.allow ?? ''} ${gatewayAnswer.body.slice(0, 400)}`,
        );
    }
    expect(mismatches, mismatches.join('\n')).toEqual([]);
    expect(problems).toBeGreaterThan(corpus.length / 2); // the corpus is mostly bad requests, as intended
  }, 300_000);

  it('an invalid request is answered by the gateway and never reaches Flask', async () => {
    // The service's request log arrives asynchronously: let the earlier tests' lines land before counting.
    await until(async () => {
      const n = predictCalls();
      await new Promise((r) => setTimeout(r, 500));
      return predictCalls() === n;
    }, 'a quiet request log');
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

  it('make gateway-local: the EB bundle (dist/, lockfile; no modules, sources, tests or secrets), production install, proxying', async () => {
    writeFileSync(path.join(project, 'gateway', '.env'), 'API_KEY=do-not-ship\n');
    plantSecrets(path.join(project, 'gateway'));
    const stage = path.join(work, 'gateway-stage');
    const port = await freePort();
    const local = spawn(
      'make',
      [
        '--no-print-directory',
        `VENV=${prepared.venv}`,
        `EBCLI_VENV=${ebcliVenv}`,
        'gateway-local',
        'LABEL=gw-e2e',
        `GATEWAY_STAGE_DIR=${stage}`,
        `GATEWAY_PORT=${port}`,
        `UPSTREAM_URL=${flaskUrl}`,
      ],
      { cwd: project, detached: true, env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    let log = '';
    local.stdout!.on('data', (d) => {
      log += d;
    });
    local.stderr!.on('data', (d) => {
      log += d;
    });
    try {
      await until(
        async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).status === 200,
        'make gateway-local',
        600_000,
        () =>
          local.exitCode !== null || local.signalCode !== null
            ? `make gateway-local exited (${local.exitCode ?? local.signalCode})`
            : undefined,
      ).catch((e) => {
        throw new Error(`${e.message}\n${log}`);
      });
      const zip = path.join(project, 'gateway', '.elasticbeanstalk', 'app_versions', 'gw-e2e.zip');
      expectBundle(
        zip,
        [
          'dist/server.js',
          'dist/app.js',
          'package.json',
          'package-lock.json',
          'Procfile',
          'contract.json',
          'schema.json',
          'public/docs.html',
          '.ebextensions/01-gateway.config',
          '.platform/nginx/conf.d/gateway.conf',
        ],
        [
          /^node_modules\//,
          /^src\//,
          /^test\//,
          /^client\//,
          /^bench\//,
          /\.ts$/,
          /^tsconfig/,
          /^\.env$/,
          /^\.elasticbeanstalk\//,
          /\.tgz$/,
          /^dist\/(scripts|client-package)\//,
          /\.map$/,
        ],
      );
      expectOnlyAllowed(
        zip,
        /^(Procfile|package\.json|package-lock\.json|contract\.json|schema\.json|(dist|public|\.ebextensions|\.platform)\/.+)$/,
      );
      // Installed as EB installs it: production dependencies only.
      const installed = JSON.parse(run('npm', ['ls', '--omit=dev', '--depth=0', '--json'], stage)).dependencies;
      expect(Object.keys(installed).sort()).toEqual(
        Object.keys(
          JSON.parse(readFileSync(path.join(project, 'gateway', 'package.json'), 'utf8')).dependencies,
        ).sort(),
      );
      expect(() => run('npm', ['ls', 'vitest'], stage)).toThrow();
      const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
      const row = Object.fromEntries(
        schema.features.map((f: { name: string; observedMin: number; observedMax: number }) => [
          f.name,
          (f.observedMin + f.observedMax) / 2,
        ]),
      );
      const direct = await (await post(`${flaskUrl}/v1/predict`, { instances: [row] })).json();
      const viaBundle = await post(`http://127.0.0.1:${port}/v1/predict`, { instances: [row] });
      expect(viaBundle.status).toBe(200);
      expect((await viaBundle.json()).predictions).toEqual(direct.predictions);
    } finally {
      if (local.exitCode === null) {
        const exited = new Promise((r) => local.once('exit', r));
        process.kill(-local.pid!, 'SIGTERM');
        await exited;
      }
    }
  }, 900_000);

  it('make gateway-create: a random API key and service token, the service URL from eb status; rotation without a gap', () => {
    // An EB CLI whose `eb` answers `status` and `printenv` as EB does once the environments exist, and records every
    // call (no AWS).
    const stub = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-ebstub-'));
    mkdirSync(path.join(stub, 'bin'));
    writeFileSync(
      path.join(stub, 'bin', 'eb'),
      [
        '#!/bin/sh',
        `echo "$* @ $(pwd)" >> "${stub}/calls"`,
        '[ "$1" = status ] && echo "  CNAME: wine-gw-env.eba-abc.us-east-1.elasticbeanstalk.com"',
        '[ "$1" = printenv ] && printf " Environment Variables:\\n     GATEWAY_ONLY = true\\n     SERVICE_TOKENS = current-token-0123456789\\n"',
        'exit 0',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(stub, 'bin', 'python'), `#!/bin/sh\nexec "${ebcliVenv}/bin/python" "$@"\n`);
    for (const f of ['eb', 'python']) chmodSync(path.join(stub, 'bin', f), 0o755);
    writeFileSync(path.join(stub, '.installed'), '');
    const calls = () => (existsSync(path.join(stub, 'calls')) ? readFileSync(path.join(stub, 'calls'), 'utf8') : '');
    const make = (...args: string[]) =>
      spawnSync('make', ['--no-print-directory', `VENV=${prepared.venv}`, `EBCLI_VENV=${stub}`, ...args], {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'placeholder', AWS_SECRET_ACCESS_KEY: 'placeholder' },
      });
    const gatewayDir = path.join(project, 'gateway');
    const serviceUrl = 'http://wine-gw-env.eba-abc.us-east-1.elasticbeanstalk.com';
    const badKey = make('gateway-create', 'API_KEY_HASH=sha256-of-my-phrase', 'LABEL=gw-badkey');
    expect(badKey.status).not.toBe(0);
    expect(badKey.stderr).toContain('API_KEY_HASH must be the sha256 of a key: 64 hex digits');
    expect(existsSync(path.join(gatewayDir, '.elasticbeanstalk', 'app_versions', 'gw-badkey.zip'))).toBe(false);
    expect(calls()).toBe('');

    const created = make('gateway-create', 'LABEL=gw-create');
    const output = `${created.stdout}${created.stderr}`;
    expect(created.status, output).toBe(0);
    const key = /API key \(give it to the frontend team; it is shown once and stored nowhere\): (\S+)/.exec(
      output,
    )?.[1];
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    const hash = createHash('sha256').update(key!).digest('hex');
    const [status, setenv, create, ...rest] = calls().trim().split('\n');
    expect(rest).toEqual([]);
    expect(status).toBe(`status wine-gw-env @ ${project}`);
    const token = /^setenv SERVICE_TOKENS=([A-Za-z0-9_-]{43}) -e wine-gw-env @ (.*)$/.exec(setenv!);
    expect(token?.[2]).toBe(project);
    expect(create).toBe(
      `create wine-gw-env-gw --elb-type application --timeout 30 --envvars UPSTREAM_URL=${serviceUrl},API_KEY_HASHES=${hash},UPSTREAM_TOKEN=${token![1]} @ ${gatewayDir}`,
    );
    expect(output).not.toContain(token![1]); // the token is in the environments only, never printed

    rmSync(path.join(stub, 'calls'));
    const given = make('gateway-create', `API_KEY_HASH=${'ab'.repeat(32)}`, 'LABEL=gw-given');
    expect(given.status, `${given.stdout}${given.stderr}`).toBe(0);
    expect(given.stdout).not.toMatch(/API key/);
    expect(calls()).toContain(`API_KEY_HASHES=${'ab'.repeat(32)},UPSTREAM_TOKEN=`);

    rmSync(path.join(stub, 'calls'));
    const rotated = make('gateway-token-rotate');
    expect(rotated.status, `${rotated.stdout}${rotated.stderr}`).toBe(0);
    const steps = calls().trim().split('\n');
    const fresh = /^setenv SERVICE_TOKENS=([A-Za-z0-9_-]{43}),current-token-0123456789 -e wine-gw-env @ /.exec(
      steps[1]!,
    )?.[1];
    expect(steps).toEqual([
      `printenv wine-gw-env @ ${project}`,
      `setenv SERVICE_TOKENS=${fresh},current-token-0123456789 -e wine-gw-env @ ${project}`,
      `setenv UPSTREAM_TOKEN=${fresh} -e wine-gw-env-gw @ ${gatewayDir}`,
      `setenv SERVICE_TOKENS=${fresh} -e wine-gw-env @ ${project}`,
    ]);
  }, 600_000);

  it("one public door: the service as deployed refuses direct calls (the review's 1,500), its gateway gets through", async () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
    const row = Object.fromEntries(
      schema.features.map((f: { name: string; observedMin: number }) => [f.name, f.observedMin]),
    );
    const token = 'e2e-service-token-0123456789';
    const key = `e2e-api-key-${'k'.repeat(32)}`;
    await stopFlask();
    // As on EB behind its gateway: GATEWAY_ONLY from .ebextensions/02_flask.config, SERVICE_TOKENS from gateway-create.
    flask = await startGunicorn(prepared, {
      logDir,
      label: 'wine-gw-gateway-only',
      env: { GATEWAY_ONLY: 'true', SERVICE_TOKENS: token },
    });
    const started: Gateway[] = [];
    try {
      const statuses: Record<number, number> = {};
      for (let round = 0; round < 30; round++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () => post(`${flaskUrl}/v1/predict`, { instances: [row] })),
        );
        for (const r of answers) {
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          await r.arrayBuffer();
        }
      }
      expect(statuses).toEqual({ 401: 1500 });
      expect((await fetch(`${flaskUrl}/v1/schema`)).status).toBe(401);
      expect(
        (await fetch(`${flaskUrl}/v1/schema`, { headers: { 'x-service-token': 'a-guess-0123456789' } })).status,
      ).toBe(401);
      expect((await fetch(`${flaskUrl}/health`)).status).toBe(200); // EB's health check stays open
      const keyed = await startGateway({
        cwd: path.join(project, 'gateway'),
        upstreamUrl: flaskUrl,
        env: {
          LOG_LEVEL: 'warn',
          UPSTREAM_TOKEN: token,
          API_KEY_HASHES: createHash('sha256').update(key).digest('hex'),
          ALLOW_ANONYMOUS: 'false',
        },
        logDir,
        label: 'gateway-with-token',
        ready: '/health/ready',
      });
      started.push(keyed);
      expect((await post(`${keyed.url}/v1/predict`, { instances: [row] })).status).toBe(401); // no API key
      const served = await post(`${keyed.url}/v1/predict`, { instances: [row] }, { 'x-api-key': key });
      expect(served.status).toBe(200);
      expect((await served.json()).predictions).toHaveLength(1);
      // A gateway without the token is refused by the service: an upstream error, not the service's 401 passed on.
      const tokenless = await startGateway({
        cwd: path.join(project, 'gateway'),
        upstreamUrl: flaskUrl,
        env: { LOG_LEVEL: 'warn' },
        logDir,
        label: 'gateway-without-token',
      });
      started.push(tokenless);
      expect((await post(`${tokenless.url}/v1/predict`, { instances: [row] })).status).toBe(502);
    } finally {
      for (const g of started) await g.stop();
      await stopFlask();
      await startFlask();
    }
  }, 300_000);

  it('upstream stopped and restarted while requests flow: clean problem+json errors, then recovery', async () => {
    const schema = JSON.parse(readFileSync(path.join(project, 'model/schema.json'), 'utf8'));
    const row = Object.fromEntries(
      schema.features.map((f: { name: string; observedMin: number }) => [f.name, f.observedMin]),
    );
    await stopFlask();
    const during = await Promise.all(
      Array.from({ length: 12 }, () => post(`${gatewayUrl}/v1/predict`, { instances: [row] })),
    );
    for (const r of during) {
      expect([502, 503, 504]).toContain(r.status);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect((await r.json()).status).toBe(r.status);
    }
    expect((await fetch(`${gatewayUrl}/health/ready`)).status).toBe(503);
    await startFlask();
    await until(
      async () => (await post(`${gatewayUrl}/v1/predict`, { instances: [row] })).ok,
      'recovery through the gateway',
      30_000,
    );
    const after = await Promise.all(
      Array.from({ length: 8 }, () => post(`${gatewayUrl}/v1/predict`, { instances: [row] })),
    );
    expect(after.map((r) => r.status)).toEqual(Array(8).fill(200));
  });

  // Last: it takes over a minute (the client package tests pack, install and compile), and the HTTP checks above
  // must not follow it, since fetch would reuse a keep-alive connection to gunicorn idle for longer than gunicorn
  // keeps it ("other side closed" on the direct POST, seen twice).
  it('the generated gateway passes its own npm test', () => {
    expect(run('npm', ['test', '--silent'], path.join(project, 'gateway'))).toMatch(/passed/);
  }, 600_000);
});
