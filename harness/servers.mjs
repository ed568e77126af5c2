// The servers of a generated project, started as they run on EB: gunicorn exactly as the Procfile says (holding the
// port-8000 lock while it runs), and the gateway as `node dist/server.js` configured only through its environment.
// Their output goes to files (so no pipe competes for the CPU that is measured); every child is in its own process
// group and stopped with it.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { acquirePort8000, PROCFILE_PORT } from './port-lock.mjs';
import { childPids, cpuSeconds, freePort, isListening, sleep, start, stop, waitHttp } from './procs.mjs';
import { GATEWAY } from './project.mjs';

const fileName = (label) => label.replace(/[^\w.-]+/g, '-');
const readLog = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/**
 * gunicorn exactly as the project's Procfile says, from the project folder, with the venv's bin first on PATH (what
 * `make serve` does). Ready means: /health answers with this project's model version (so the answer is not from
 * someone else's server) and, with `settle`, every worker has finished importing the app (its CPU time stopped
 * growing: under a running load that never happens, so a restart under load does not settle).
 */
export async function startGunicorn(
  project,
  { venv = project.venv, logDir, label = project.name, settle = false, onWait = () => {}, env = {} },
) {
  const release = project.port === PROCFILE_PORT ? await acquirePort8000({ onWait }) : () => {};
  mkdirSync(logDir, { recursive: true });
  const [command, ...args] = project.web.split(/\s+/);
  // The service logs one line per request (with its request id) to stderr; gunicorn's access log is off.
  const logs = {
    stdout: path.join(logDir, `gunicorn-${fileName(label)}.out`),
    stderr: path.join(logDir, `gunicorn-${fileName(label)}.log`),
  };
  let child;
  try {
    child = start(`gunicorn ${label}`, command, args, {
      cwd: project.dir,
      env: { ...process.env, PATH: `${path.join(venv, 'bin')}:${process.env.PATH}`, ...env },
      ...logs,
    });
    // The port is the machine's: the next holder of the lock may bind it once this gunicorn has gone, however it went.
    child.exited.then(release);
    const started = Date.now();
    const health = await waitHttp(`http://127.0.0.1:${project.port}/health`, child, 90_000);
    if (project.schema && health?.model?.version !== project.schema.model.version) {
      throw new Error(
        `127.0.0.1:${project.port} answered for model ${JSON.stringify(health?.model)}, not ${project.name}; is another server on the port?`,
      );
    }
    if (settle) await settleWorkers(child, project);
    return {
      child,
      port: project.port,
      url: `http://127.0.0.1:${project.port}`,
      bootSeconds: (Date.now() - started) / 1000,
      logs,
      /** What gunicorn and the app wrote so far (stdout, then stderr). */
      output: () => readLog(logs.stdout) + readLog(logs.stderr),
      workerPids: () => childPids(child.pid),
      pids: () =>
        Object.fromEntries([
          ['gunicornMaster', child.pid],
          ...childPids(child.pid).map((pid, i) => [`worker${i + 1}`, pid]),
        ]),
      /** SIGTERM (gunicorn's graceful stop), then the port is free again before anything else binds it. */
      async stop(graceMs = 35_000) {
        await stop(child, graceMs);
        for (let i = 0; i < 100 && (await isListening(project.port)); i++) await sleep(100);
      },
    };
  } catch (err) {
    if (child) await stop(child);
    else release();
    throw err;
  }
}

async function settleWorkers(child, project) {
  const until = Date.now() + 60_000;
  let workers = [];
  while (Date.now() < until) {
    workers = childPids(child.pid);
    if (workers.length >= project.workers) break;
    await sleep(100);
  }
  if (workers.length < project.workers)
    throw new Error(`gunicorn ${project.name}: ${workers.length} of ${project.workers} workers started`);
  let previous = workers.map(cpuSeconds);
  for (let stable = 0; stable < 3 && Date.now() < until; ) {
    await sleep(200);
    const now = workers.map(cpuSeconds);
    stable = now.every((v, i) => v === previous[i]) ? stable + 1 : 0;
    previous = now;
  }
}

/**
 * The real gateway, `node dist/server.js` in `cwd` (this checkout's gateway/, or a generated project's), configured
 * only through its environment. Everything not set here keeps its default (LOG_LEVEL info: one pino line per request,
 * to a file as on EB; metrics; breaker; retries). Anonymous, since a run has no keys to hand out, and rate limiting off
 * because its default (600 per minute per address) would answer 429 to a load generator.
 */
export async function startGateway({
  upstreamUrl,
  schemaPath,
  env = {},
  nodeArgs = [],
  label = 'gateway',
  cwd = GATEWAY,
  logDir,
  ready = '/health/live',
}) {
  const port = await freePort();
  mkdirSync(logDir, { recursive: true });
  const logs = {
    stdout: path.join(logDir, `${fileName(label)}.log`),
    stderr: path.join(logDir, `${fileName(label)}.err`),
  };
  const child = start(label, process.execPath, [...nodeArgs, 'dist/server.js'], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: String(port),
      UPSTREAM_URL: upstreamUrl,
      ...(schemaPath ? { SCHEMA_PATH: schemaPath } : {}),
      ALLOW_ANONYMOUS: 'true',
      RATE_LIMIT_MAX: '0',
      ...env,
    },
    ...logs,
  });
  try {
    await waitHttp(`http://127.0.0.1:${port}${ready}`, child, 30_000);
  } catch (err) {
    await stop(child);
    throw new Error(`${err.message}\n${readLog(logs.stderr).slice(-2000)}`);
  }
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    pids: () => ({ gateway: child.pid }),
    stop: (graceMs) => stop(child, graceMs),
  };
}
