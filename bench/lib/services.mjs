// The servers the benchmark starts: its own baselines (a fixed-response upstream and a bare node:http proxy), and
// the generated project's gunicorn and the gateway through the harness, with the benchmark's log folder. Each
// returns { child, port, pids() } where pids() names every process whose CPU and memory the benchmark watches.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  start,
  startGateway as startHarnessGateway,
  startGunicorn as startHarnessGunicorn,
  waitHttp,
} from '../../harness/index.mjs';
import { BENCH, LOGS } from './setup.mjs';

function logFile(name) {
  mkdirSync(LOGS, { recursive: true });
  return path.join(LOGS, name);
}

export async function startFixedUpstream(schemaPath) {
  const port = await freePort();
  const child = start(
    'fixed upstream',
    process.execPath,
    [path.join(BENCH, 'servers', 'fixed-upstream.mjs'), String(port), schemaPath],
    { stderr: logFile('fixed-upstream.err') },
  );
  await waitHttp(`http://127.0.0.1:${port}/health`, child, 10_000);
  return { child, port, pids: () => ({ upstream: child.pid }) };
}

export async function startBaselineProxy(upstreamPort) {
  const port = await freePort();
  const child = start(
    'baseline proxy',
    process.execPath,
    [path.join(BENCH, 'servers', 'baseline-proxy.mjs'), String(port), String(upstreamPort)],
    { stderr: logFile('baseline-proxy.err') },
  );
  await waitHttp(`http://127.0.0.1:${port}/health`, child, 10_000);
  return { child, port, pids: () => ({ proxy: child.pid }) };
}

/** The real gateway in front of 127.0.0.1:upstreamPort, with its defaults (see harness/servers.mjs). */
export const startGateway = ({ upstreamPort, ...options }) =>
  startHarnessGateway({ upstreamUrl: `http://127.0.0.1:${upstreamPort}`, logDir: LOGS, ...options });

/** The Procfile's gunicorn, measured only once every worker has finished importing the app. */
export const startGunicorn = (project, venv) => startHarnessGunicorn(project, { venv, logDir: LOGS, settle: true });
