// Measures the gateway end to end with each UpstreamClient implementation (and micro-batching against a
// serial-cost upstream), with autocannon on loopback. Usage: npm run bench [-- seconds connections rounds]
// Every process is a child of this one and is stopped at the end; everything binds to 127.0.0.1.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import os from 'node:os';
import autocannon from 'autocannon';

const root = resolve(import.meta.dirname, '..');
const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 2);
const children = [];

async function startProcess(args, env = {}, readyPattern) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  for (let i = 0; i < 200 && !readyPattern.test(out); i++) await new Promise((r) => setTimeout(r, 25));
  const match = readyPattern.exec(out);
  if (!match) throw new Error(`${args.join(' ')} did not start`);
  return { child, port: Number(match[1] ?? match[2]) };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function startGateway(upstreamPort, env) {
  return startProcess(
    ['dist/server.js'],
    {
      HOST: '127.0.0.1',
      PORT: '0',
      UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
      ALLOW_ANONYMOUS: 'true',
      RATE_LIMIT_MAX: '0',
      LOG_LEVEL: 'info',
      SCHEMA_PATH: resolve(root, 'test/fixtures/iris.schema.json'),
      ...env,
    },
    /"msg":"listening"[^\n]*?"port":(\d+)|"port":(\d+)[^\n]*"msg":"listening"/,
  );
}

const body = JSON.stringify({
  instances: [{ sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }],
});

async function load(port, duration = seconds) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/predict`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration,
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function scenario(name, upstreamArgs, gatewayEnv) {
  const upstream = await startProcess(['bench/upstream.mjs', ...upstreamArgs], {}, /^(\d+)\n/);
  const gateway = await startGateway(upstream.port, gatewayEnv);
  try {
    await load(gateway.port, 2); // warm-up: JIT, connection pools
    const r = await load(gateway.port);
    console.log(
      `${name.padEnd(44)} ${String(r.rps).padStart(7)} req/s   p50 ${r.p50} ms   p99 ${r.p99} ms   errors ${r.errors}`,
    );
    return r;
  } finally {
    await stop(gateway.child);
    await stop(upstream.child);
  }
}

try {
  console.log(
    `node ${process.version}, ${seconds} s per run, ${connections} connections, autocannon on 127.0.0.1, load average before: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const direct = await startProcess(['bench/upstream.mjs', 'fixed'], {}, /^(\d+)\n/);
  await load(direct.port, 2);
  const raw = await load(direct.port);
  console.log(
    `${'fixed upstream alone (ceiling)'.padEnd(44)} ${String(raw.rps).padStart(7)} req/s   p50 ${raw.p50} ms   p99 ${raw.p99} ms`,
  );
  await stop(direct.child);
  for (let round = 1; round <= rounds; round++) {
    for (const client of ['undici', 'axios']) {
      await scenario(`round ${round}: gateway, ${client}, batching off`, ['fixed'], {
        UPSTREAM_CLIENT: client,
        BATCH_ENABLED: 'false',
      });
    }
  }
  // Micro-batching only pays when each upstream call has a fixed cost; a 5 ms serial worker imitates that.
  await scenario('serial 5 ms upstream, batching off', ['serial', '5'], {
    BATCH_ENABLED: 'false',
    REQUEST_DEADLINE_MS: '30000',
  });
  await scenario('serial 5 ms upstream, batching on (2 ms window)', ['serial', '5'], {
    BATCH_ENABLED: 'true',
    BATCH_WINDOW_MS: '2',
    REQUEST_DEADLINE_MS: '30000',
  });
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}
