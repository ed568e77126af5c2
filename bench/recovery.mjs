#!/usr/bin/env node
// `node bench/recovery.mjs [rounds] [--smoke]`: how the breaker's recovery probe interval (BREAKER_PROBE_MS) trades recovery
// time against health requests, measured as the default was chosen (gateway README, "Circuit breaker"). Reuses the
// project and venv that `npm run reliability` set up (run that first). For each interval, alternating in rounds: a
// gateway straight to gunicorn, 100 req/s of single-row predictions, gunicorn stopped (SIGTERM) for 3 s and started
// again; reported: upstream healthy -> first 200, -> last error, and the /health requests the gateway sent.
// This is a measurement of candidate defaults, so it sets the variable; `npm run reliability` never does.
// --smoke: one round of the default interval with second-long waits (test/measurements-smoke.test.ts runs it after the
// reliability smoke run, which leaves the project behind), to prove the script still runs.
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  acquirePort8000,
  directRestart,
  installExitHandlers,
  killAll,
  makeRows,
  openProject,
  projectVenv,
  startGunicorn,
  stop,
  summariseRestart,
} from '../harness/index.mjs';
import { LOGS, ROOT } from './lib/setup.mjs';
import { startGateway } from './lib/services.mjs';

installExitHandlers('bench');
const smoke = process.argv.includes('--smoke');
const rounds = smoke ? 1 : Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 2);
const INTERVALS = smoke ? [250] : [50, 100, 250, 500, 1000];
const WAIT = smoke ? { beforeMs: 1000, downMs: 1000, afterMs: 1000 } : { beforeMs: 2000, downMs: 3000, afterMs: 3000 };
const dir = path.join(ROOT, 'reliability', 'tmp', 'reliability-app');
if (!existsSync(path.join(dir, 'model', 'schema.json'))) {
  process.stderr.write(
    'bench/recovery.mjs: run `npm run reliability` first (it generates and trains the project used here)\n',
  );
  process.exit(2);
}
const log = (m) => process.stdout.write(`${m}\n`);
const project = { ...openProject(dir), venv: projectVenv(dir, log) };
const bodies = makeRows(project.schema, 3000, 7).map((row) => JSON.stringify({ instances: [row] }));
// Ready as soon as /health answers: the restart is measured under load, where workers never settle.
const gunicorn = () => startGunicorn(project, { logDir: LOGS, label: 'recovery' });

// Held for the whole run: gunicorn is down on purpose between rounds, and no other suite may take the port then.
await acquirePort8000({ onWait: (pid) => log(`waiting for the port-8000 lock (pid ${pid})`) });
let g = await gunicorn();
const results = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const interval of round % 2 ? INTERVALS : [...INTERVALS].reverse()) {
      const gw = await startGateway({
        upstreamPort: 8000,
        schemaPath: project.schemaPath,
        env: { BREAKER_PROBE_MS: String(interval) },
        label: `gateway probe ${interval}`,
      });
      const r = await directRestart({
        gatewayPort: gw.port,
        upstreamPort: 8000,
        bodies,
        rate: 100,
        ...WAIT,
        clientTimeoutMs: 13_000,
        stopUpstream: () => g.stop(),
        startUpstream: async () => {
          g = await gunicorn();
        },
        log: () => {},
      });
      const metrics = await fetch(`http://127.0.0.1:${gw.port}/metrics`).then((x) => x.text());
      await stop(gw.child);
      const s = summariseRestart(r);
      const probes = [...metrics.matchAll(/^gateway_upstream_breaker_probes_total\{[^}]*\} (\d+)/gm)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
      const outageS = (s.healthyMs - s.stoppedMs) / 1000;
      results.push({
        round,
        interval,
        firstOk: s.firstOkAfterHealthyMs,
        lastError: s.lastErrorAfterHealthyMs,
        probes,
        probesPerS: Math.round((probes / outageS) * 10) / 10,
        errors: s.errors,
      });
      log(JSON.stringify(results.at(-1)));
    }
  }
} finally {
  await g.stop();
  killAll();
}
log('\n| BREAKER_PROBE_MS | healthy → first 200 (ms) | healthy → last error (ms) | /health probes per s of outage |');
log('| ---: | --- | --- | --- |');
for (const interval of INTERVALS) {
  const rs = results.filter((x) => x.interval === interval);
  log(
    `| ${interval} | ${rs.map((x) => x.firstOk).join(', ')} | ${rs.map((x) => x.lastError).join(', ')} | ${rs.map((x) => x.probesPerS).join(', ')} |`,
  );
}
process.exit(0);
