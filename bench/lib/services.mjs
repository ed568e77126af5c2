// Starting the servers under test. Each returns { child, port, pids() } where pids() names every process whose CPU
// and memory the benchmark watches.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BENCH, GATEWAY, TMP } from './setup.mjs';
import { childPids, cpuSeconds, freePort, isListening, sleep, start, stop, waitHttp, waitPortFree } from './procs.mjs';

const LOGS = path.join(TMP, 'logs');

function logFile(name) {
  mkdirSync(LOGS, { recursive: true });
  return path.join(LOGS, name);
}

export async function startFixedUpstream(schemaPath) {
  const port = await freePort();
  const child = start('fixed upstream', process.execPath, [path.join(BENCH, 'servers', 'fixed-upstream.mjs'), String(port), schemaPath], { stderr: logFile('fixed-upstream.err') });
  await waitHttp(`http://127.0.0.1:${port}/health`, child, 10_000);
  return { child, port, pids: () => ({ upstream: child.pid }) };
}

export async function startBaselineProxy(upstreamPort) {
  const port = await freePort();
  const child = start('baseline proxy', process.execPath, [path.join(BENCH, 'servers', 'baseline-proxy.mjs'), String(port), String(upstreamPort)], { stderr: logFile('baseline-proxy.err') });
  await waitHttp(`http://127.0.0.1:${port}/health`, child, 10_000);
  return { child, port, pids: () => ({ proxy: child.pid }) };
}

/**
 * The real gateway, `node dist/server.js`, configured only through its environment. Everything not set here keeps
 * its default (LOG_LEVEL info: one pino line per request, to a file as on EB; metrics; breaker; retries). Rate
 * limiting is off because its default (600 per minute per address) would answer 429 to a load generator.
 */
export async function startGateway({ upstreamPort, schemaPath, env = {}, nodeArgs = [], label = 'gateway', cwd = GATEWAY }) {
  const port = await freePort();
  const child = start(label, process.execPath, [...nodeArgs, 'dist/server.js'], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: String(port),
      UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
      SCHEMA_PATH: schemaPath,
      ALLOW_ANONYMOUS: 'true',
      RATE_LIMIT_MAX: '0',
      ...env,
    },
    // One log per label, so a run with two gateways (reliability's direct restart) keeps both.
    stdout: logFile(`${label.replace(/[^\w.-]+/g, '-')}.log`),
    stderr: logFile(`${label.replace(/[^\w.-]+/g, '-')}.err`),
  });
  await waitHttp(`http://127.0.0.1:${port}/health/live`, child, 15_000);
  return { child, port, pids: () => ({ gateway: child.pid }) };
}

/**
 * gunicorn exactly as the project's Procfile says, from the project folder, with the venv's bin first on PATH (what
 * `make serve` does). The Procfile binds 127.0.0.1:8000, so that port must be free: another job (the e2e tests)
 * may hold it for a while, which is waited out for a bounded time. Ready means: /health answers with this project's
 * model version (so the answer is not from someone else's server) and every worker has finished importing the app
 * (its CPU time stopped growing).
 */
export async function startGunicorn(project, venv) {
  if (!(await waitPortFree(project.port, 180_000))) throw new Error(`127.0.0.1:${project.port} stayed busy for 3 minutes; the Procfile's gunicorn needs it`);
  const [command, ...args] = project.web.split(/\s+/);
  const child = start(`gunicorn ${project.name}`, command, args, {
    cwd: project.dir,
    env: { ...process.env, PATH: `${path.join(venv, 'bin')}:${process.env.PATH}` },
    // The service logs one line per request (with its request id) to stderr; gunicorn's access log is off.
    stdout: logFile(`gunicorn-${project.name}.out`),
    stderr: logFile(`gunicorn-${project.name}.log`),
  });
  const started = Date.now();
  const health = await waitHttp(`http://127.0.0.1:${project.port}/health`, child, 90_000);
  if (health?.model?.version !== project.schema.model.version) {
    await stop(child);
    throw new Error(`127.0.0.1:${project.port} answered for model ${JSON.stringify(health?.model)}, not ${project.name}; is another server on the port?`);
  }
  const until = Date.now() + 60_000;
  let workers = [];
  while (Date.now() < until) {
    workers = childPids(child.pid);
    if (workers.length >= project.workers) break;
    await sleep(100);
  }
  if (workers.length < project.workers) throw new Error(`gunicorn ${project.name}: ${workers.length} of ${project.workers} workers started`);
  let previous = workers.map(cpuSeconds);
  for (let stable = 0; stable < 3 && Date.now() < until; ) {
    await sleep(200);
    const now = workers.map(cpuSeconds);
    stable = now.every((v, i) => v === previous[i]) ? stable + 1 : 0;
    previous = now;
  }
  const bootSeconds = (Date.now() - started) / 1000;
  return {
    child,
    port: project.port,
    bootSeconds,
    workerPids: () => childPids(child.pid),
    pids: () => Object.fromEntries([['gunicornMaster', child.pid], ...childPids(child.pid).map((pid, i) => [`worker${i + 1}`, pid])]),
  };
}

export async function stopGunicorn(g, project) {
  await stop(g.child, 35_000);
  // The port must be free again before anything else binds it.
  for (let i = 0; i < 100 && (await isListening(project.port)); i++) await sleep(100);
}

// ---- node --cpu-prof summaries ----

function bucket(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/.*$/, '');
  const dist = /gateway\/dist\/(.+)$/.exec(url);
  if (dist) return `gateway ${dist[1]}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time by package (node_modules/<pkg>), node internals by module, the gateway by file, from a .cpuprofile.
 * Only samples between `fromUs` and `toUs` (CLOCK_MONOTONIC microseconds, the clock of both V8's profile and
 * process.hrtime) count, so start-up (module loading, compiling) and shutdown are left out.
 */
export function summariseCpuProfile(dir, fromUs = 0, toUs = Infinity) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  const fnUs = new Map();
  const inclusiveUs = new Map();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < fromUs || at > toUs) return;
    const { url, functionName } = node.callFrame;
    if (functionName === '(idle)') return;
    total += dt;
    const key = bucket(url, functionName);
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    const fn = `${functionName || '(anonymous)'} ${key}`;
    fnUs.set(fn, (fnUs.get(fn) ?? 0) + dt);
    // By caller: the sample goes to the nearest frame on its stack that is a package or a gateway file, so time
    // spent in Node's internals (socket writes, streams, events) is charged to the code that asked for it.
    let owner = key;
    for (let cur = id, depth = 0; cur !== undefined && depth < 500; cur = parent.get(cur), depth++) {
      const frame = byId.get(cur).callFrame;
      if (!frame.url) continue;
      const k = bucket(frame.url, frame.functionName);
      if (k.startsWith('node:')) continue;
      owner = k;
      break;
    }
    inclusiveUs.set(owner, (inclusiveUs.get(owner) ?? 0) + dt);
  });
  rmSync(dir, { recursive: true, force: true });
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, percent: Math.round((us / total) * 1000) / 10 }));
  return { busyMs: Math.round(total / 1000), byPackage: top(selfUs, 14), byCaller: top(inclusiveUs, 16), byFunction: top(fnUs, 15) };
}
