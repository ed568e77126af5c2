#!/usr/bin/env node
// `npm run reliability`: a fault-injection run. Sets everything up itself (builds the generator and the gateway,
// generates and trains a project with the defaults, in the shared venv: all through harness/), then sends a
// FIXED request rate (open loop) of distinct single-row predictions through the gateway (batching on) to the real
// Flask app under gunicorn (the Procfile's `web:` command), with a small TCP proxy between gateway and gunicorn,
// while a fault schedule runs against the upstream: SIGKILL of gunicorn (then restart), latency past the deadline,
// 503s from the proxy, and a graceful SIGHUP reload of gunicorn. Writes reliability/results.json and RELIABILITY.md;
// exits 1 when a check fails. Every child is in its own process group, killed on exit, error and Ctrl-C.
//
// Then the scenario of issue 14: a second gateway connected straight to gunicorn, gunicorn stopped for ~3 s and
// started again, time from "upstream healthy" to the first 200 and to the last error. Both gateways run with their
// defaults only (plus ALLOW_ANONYMOUS=true and RATE_LIMIT_MAX=0, see harness/servers.mjs): what a run needs to
// pass belongs in the defaults. Writes reliability/results.json (a summary), reliability/results-detail.json
// (every request; git-ignored) and RELIABILITY.md; exits 1 when a check fails. Every child is in its own process
// group, killed on exit, error and Ctrl-C. The port-8000 lock (harness/port-lock.mjs) is held for the whole run.
//
// Env: RELIABILITY_SECONDS (60) load duration, RELIABILITY_RATE (100) req/s, RELIABILITY_FAULT_S (5) fault length,
//      RELIABILITY_GAP_S (7) quiet time between a recovery and the next fault, RELIABILITY_WARMUP_S (10),
//      RELIABILITY_GRACE_MS (500), RELIABILITY_RSS_TOLERANCE (0.10), RELIABILITY_DOWN_S (3) how long gunicorn stays
//      stopped in the direct scenario.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  acquirePort8000,
  buildCheckout,
  directRestart,
  GATEWAY,
  healthy,
  installExitHandlers,
  killAll,
  machineInfo,
  makeRows,
  memory,
  openLoop,
  prepareProject,
  ROOT,
  sleep,
  startGateway,
  startGunicorn,
  stop,
  summariseRestart,
  waitPortFree,
} from '../harness/index.mjs';
import { startFaultProxy } from './lib/proxy.mjs';
import { renderReport } from './report.mjs';

installExitHandlers('reliability');
const num = (name, dflt) =>
  process.env[name] !== undefined && process.env[name] !== '' ? Number(process.env[name]) : dflt;
const S = {
  seconds: num('RELIABILITY_SECONDS', 60),
  rate: num('RELIABILITY_RATE', 100),
  faultMs: num('RELIABILITY_FAULT_S', 5) * 1000,
  gapMs: num('RELIABILITY_GAP_S', 7) * 1000,
  warmupS: num('RELIABILITY_WARMUP_S', 10),
  graceMs: num('RELIABILITY_GRACE_MS', 500),
  rssTolerance: num('RELIABILITY_RSS_TOLERANCE', 0.1),
  recoveryLimitMs: 2000,
  directDownMs: num('RELIABILITY_DOWN_S', 3) * 1000,
  directBeforeMs: 3000,
  directAfterMs: 5000,
  directGoalMs: 1000,
  sighupQuietMs: 2000, // the SIGHUP phase runs from the signal to 2 s after the last old worker has gone
  settleMaxS: 30,
};

const DIR = path.join(ROOT, 'reliability');
const TMP = path.join(DIR, 'tmp'); // scratch: the generated project
const LOGS = path.join(TMP, 'logs');
const began = Date.now();
const log = (msg) => process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

function setupProject() {
  log('setup');
  buildCheckout(log);
  const project = prepareProject({ parent: TMP, name: 'reliability-app', args: ['--yes'], log, fresh: true });
  log(`  venv ${path.relative(ROOT, project.venv)}`);
  return { venv: project.venv, project: { ...project, estimator: project.schema.model?.estimator } };
}

function versions(venv) {
  const code =
    "import json,sys,flask,gunicorn,sklearn,numpy\nprint(json.dumps({'python':sys.version.split()[0],'flask':flask.__version__ if hasattr(flask,'__version__') else '?','gunicorn':gunicorn.__version__,'scikitLearn':sklearn.__version__,'numpy':numpy.__version__}))";
  const r = spawnSync(path.join(venv, 'bin', 'python'), ['-c', code], { encoding: 'utf8' });
  let py = {};
  try {
    py = JSON.parse(r.stdout.trim().split('\n').at(-1));
  } catch {
    py = { error: r.stderr?.slice(-300) };
  }
  if (py.flask === '?') {
    const m = spawnSync(
      path.join(venv, 'bin', 'python'),
      ['-c', "import importlib.metadata as m;print(m.version('flask'))"],
      { encoding: 'utf8' },
    );
    py.flask = m.stdout.trim();
  }
  const gw = JSON.parse(readFileSync(path.join(GATEWAY, 'package.json'), 'utf8'));
  return {
    node: process.version,
    ...py,
    gateway: `${gw.name} ${gw.version}`,
    undici: gw.dependencies?.undici,
    opossum: gw.dependencies?.opossum,
    express: gw.dependencies?.express,
  };
}

/** Distinct rows (makeRows rounds to 0.1, so duplicates are dropped). */
function distinctBodies(schema, count, seed) {
  const seen = new Set();
  const out = [];
  for (let s = seed; out.length < count && s < seed + 50; s++) {
    for (const row of makeRows(schema, count * 2, s)) {
      const body = JSON.stringify({ instances: [row] });
      if (!seen.has(body)) {
        seen.add(body);
        out.push(body);
        if (out.length >= count) break;
      }
    }
  }
  return out;
}

const median = (xs) => {
  if (!xs.length) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r1 = (x) => (x === undefined || x === null || Number.isNaN(x) ? x : Math.round(x * 10) / 10);

/**
 * The Procfile command again, ready as soon as /health answers with this project's model (the first start also waits
 * for the workers' CPU time to stop growing, which under a running load never happens).
 */
const restartGunicorn = (project, name = 'restarted') => startGunicorn(project, { logDir: LOGS, label: name });

/** A process that is gone or a zombie (killed, not yet reaped) no longer counts. */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function holdPort(port) {
  const sockets = new Set();
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.resetAndDestroy();
  });
  for (let i = 0; ; i++) {
    try {
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      break;
    } catch (err) {
      if (i >= 40) throw new Error(`could not hold 127.0.0.1:${port} while gunicorn is down: ${err.message}`);
      await sleep(50);
    }
  }
  server.on('connection', (sock) => sockets.add(sock));
  return {
    release: () =>
      new Promise((resolve) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
async function main() {
  log(`generator-sci-eb reliability run: ${S.rate} req/s for ${S.seconds} s`);
  const { venv, project } = setupProject();
  // The deadline the gateway runs with is its default; the slow fault and the client timeout follow it.
  const { loadConfig } = await import(path.join(GATEWAY, 'dist', 'config.js'));
  const gatewayDefaults = loadConfig({
    UPSTREAM_URL: `http://127.0.0.1:${project.port}`,
    ALLOW_ANONYMOUS: 'true',
    RATE_LIMIT_MAX: '0',
  });
  S.deadlineMs = gatewayDefaults.REQUEST_DEADLINE_MS;
  S.clientTimeoutMs = S.deadlineMs + 3000;
  S.slowDelayMs = S.deadlineMs + 1500;
  log(`gateway defaults: deadline ${S.deadlineMs} ms`);
  await acquirePort8000({ onWait: (owner) => log(`  waiting for the port-8000 lock (held by pid ${owner})`) });
  const ver = versions(venv);
  log(`  ${JSON.stringify(ver)}`);

  log(`gunicorn: ${project.web}`);
  let g = await startGunicorn(project, { logDir: LOGS, settle: true });
  log(`  up in ${g.bootSeconds.toFixed(1)} s, master ${g.child.pid}, workers ${g.workerPids().join(' ')}`);
  const proxy = await startFaultProxy(project.port);
  log(`fault proxy 127.0.0.1:${proxy.port} -> 127.0.0.1:${project.port}`);
  const gatewayEnv = {};
  const gateway = await startGateway({
    upstreamUrl: `http://127.0.0.1:${proxy.port}`,
    schemaPath: project.schemaPath,
    env: gatewayEnv,
    logDir: LOGS,
  });
  log(
    `gateway 127.0.0.1:${gateway.port} pid ${gateway.child.pid} ${JSON.stringify(gatewayEnv)} (+ HOST, PORT, UPSTREAM_URL, SCHEMA_PATH, ALLOW_ANONYMOUS=true, RATE_LIMIT_MAX=0)`,
  );

  // Gateway RSS every 500 ms for the whole run.
  const T = Date.now();
  const rss = [];
  const rssTimer = setInterval(() => {
    const m = memory(gateway.child.pid);
    if (m) rss.push({ tMs: Date.now() - T, rssMiB: m.rssMiB });
  }, 500);

  const maxRequests = Math.ceil(S.rate * (S.seconds * 2 + S.warmupS));
  const bodies = distinctBodies(project.schema, maxRequests, 20240611);
  log(`${bodies.length} distinct single-row bodies`);

  // Warm-up (not counted): same rate, no faults, so the "before" memory is of a gateway that has served traffic.
  log(`warm-up: ${S.warmupS} s at ${S.rate} req/s`);
  const warm = await openLoop({
    port: gateway.port,
    bodies: bodies.slice(maxRequests - S.rate * S.warmupS),
    rate: S.rate,
    seconds: S.warmupS,
    t0: Date.now(),
    clientTimeoutMs: S.clientTimeoutMs,
  }).promise;
  const warmFailed = warm.filter((x) => x.status !== 200).length;
  log(`  ${warm.length} requests, ${warmFailed} not 200`);
  await sleep(3000);
  const beforeFrom = Date.now() - T - 2500;
  const rssBefore = median(rss.filter((x) => x.tMs >= beforeFrom).map((x) => x.rssMiB));
  log(`gateway RSS before the storm: ${rssBefore} MiB (median of the last 2.5 s, idle)`);

  // ---- the storm ----
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  const until = async (ms) => {
    const d = ms - now();
    if (d > 0) await sleep(d);
  };
  const loop = openLoop({
    port: gateway.port,
    bodies,
    rate: S.rate,
    seconds: S.seconds * 2,
    t0,
    clientTimeoutMs: S.clientTimeoutMs,
  });
  log(`storm: open loop at ${S.rate} req/s; faults: kill, slow, 503, sighup`);
  const events = [];

  // 1. SIGKILL gunicorn's master and workers, restart after faultMs with the Procfile command.
  await until(S.gapMs);
  {
    const e = {
      name: 'kill',
      description: "SIGKILL to gunicorn's process group (master + workers), restart with the Procfile command",
    };
    const pids = [g.child.pid, ...g.workerPids()];
    e.startMs = now();
    process.kill(-g.child.pid, 'SIGKILL');
    await g.child.exited;
    // Another job (bench, e2e tests) may be waiting for :8000; hold it while gunicorn is down with a listener that
    // resets every connection (what the gateway would see from a dead upstream behind the proxy anyway).
    const holder = await holdPort(project.port);
    e.killedPids = pids;
    await sleep(100);
    e.stillAlive = pids.filter(alive);
    log(
      `  ${r1(e.startMs / 1000)} s kill: SIGKILL pids ${pids.join(' ')}${e.stillAlive.length ? ` (still alive: ${e.stillAlive})` : ''}`,
    );
    await until(e.startMs + S.faultMs);
    e.endMs = now();
    await holder.release();
    if (!(await waitPortFree(project.port, 30_000)))
      throw new Error(`127.0.0.1:${project.port} taken by someone else during the kill fault`);
    let recovered;
    let polling = true;
    const poll = (async () => {
      while (polling && recovered === undefined) {
        if (await healthy(project.port, 500)) recovered = now();
        else await sleep(50);
      }
    })();
    log(`  ${r1(e.endMs / 1000)} s restart gunicorn`);
    g = await restartGunicorn(project);
    polling = false;
    await poll;
    e.recoveredMs = recovered ?? now();
    e.newMaster = g.child.pid;
    log(
      `  ${r1(e.recoveredMs / 1000)} s gunicorn answers /health again, master ${g.child.pid}, workers ${g.workerPids().join(' ')}`,
    );
    events.push(e);
  }

  // 2. Latency beyond the deadline, injected in the proxy.
  for (const [name, mode, description] of [
    ['slow', 'slow', `the proxy holds every byte sent upstream for ${S.slowDelayMs} ms (deadline ${S.deadlineMs} ms)`],
    ['503', '503', 'the proxy answers HTTP/1.1 503 (problem+json, Connection: close) itself, forwards nothing'],
  ]) {
    await until(events.at(-1).recoveredMs + S.gapMs);
    const e = { name, description, startMs: now() };
    proxy.setMode(mode, S.slowDelayMs);
    log(`  ${r1(e.startMs / 1000)} s ${name}: on`);
    await until(e.startMs + S.faultMs);
    proxy.setMode('normal');
    e.endMs = e.recoveredMs = now();
    log(`  ${r1(e.endMs / 1000)} s ${name}: off`);
    events.push(e);
  }

  // 4. Graceful reload as EB does on deploy: SIGHUP to the master.
  await until(events.at(-1).recoveredMs + S.gapMs);
  {
    const e = {
      name: 'sighup',
      description: 'SIGHUP to the gunicorn master (graceful reload: new workers, old ones drained)',
    };
    const old = g.workerPids();
    e.startMs = now();
    process.kill(g.child.pid, 'SIGHUP');
    log(`  ${r1(e.startMs / 1000)} s sighup: master ${g.child.pid}, old workers ${old.join(' ')}`);
    const limit = Date.now() + 45_000;
    let workers = [];
    while (Date.now() < limit) {
      workers = g.workerPids();
      if (workers.length >= project.workers && !workers.some((pid) => old.includes(pid))) break;
      await sleep(50);
    }
    e.oldGoneMs = now();
    while (Date.now() < limit && !(await healthy(project.port, 500))) await sleep(50);
    e.newWorkers = workers;
    e.endMs = e.recoveredMs = now();
    // At least 5 s, so that requests queued while the new workers import the app are part of the phase.
    e.phaseEndMs = Math.max(e.endMs, e.startMs + 5000) + S.sighupQuietMs;
    log(
      `  ${r1(e.oldGoneMs / 1000)} s old workers gone, new ${workers.join(' ')}; /health ${r1(e.endMs / 1000)} s; phase until ${r1(e.phaseEndMs / 1000)} s`,
    );
    events.push(e);
  }
  const stopAt = Math.max(S.seconds * 1000, events.at(-1).phaseEndMs + S.gapMs);
  await until(stopAt);
  loop.stop();
  log(`  ${r1(now() / 1000)} s load stopped after ${loop.sent()} requests; waiting for the last answers`);
  const records = await loop.promise;
  const stormEndMs = now();

  // ---- settle: the gateway's RSS should come back to its pre-storm level ----
  const settleFrom = Date.now() - T;
  let rssAfter;
  for (let waited = 0; waited <= S.settleMaxS; waited += 1) {
    await sleep(1000);
    const window = rss.filter((x) => x.tMs >= Date.now() - T - 2500).map((x) => x.rssMiB);
    if (waited >= 4) {
      rssAfter = median(window);
      if (rssAfter <= rssBefore * (1 + S.rssTolerance)) break;
    }
  }
  const settleMs = Date.now() - T - settleFrom;
  clearInterval(rssTimer);
  const rssPeak = Math.max(...rss.filter((x) => x.tMs >= beforeFrom).map((x) => x.rssMiB));
  log(
    `gateway RSS after the storm: ${rssAfter} MiB after ${r1(settleMs / 1000)} s idle (before ${rssBefore}, peak ${rssPeak})`,
  );

  const metricsText = await fetch(`http://127.0.0.1:${gateway.port}/metrics`, { signal: AbortSignal.timeout(3000) })
    .then((x) => x.text())
    .catch(() => '');
  await stop(gateway.child);
  await proxy.close();

  // ---- the direct restart: a fresh gateway straight to gunicorn ----
  log(
    `direct restart: a second gateway straight to 127.0.0.1:${project.port}, ${S.rate} req/s, gunicorn stopped for ${S.directDownMs / 1000} s`,
  );
  const direct = await startGateway({
    upstreamUrl: `http://127.0.0.1:${project.port}`,
    schemaPath: project.schemaPath,
    env: {},
    label: 'gateway (direct)',
    logDir: LOGS,
  });
  const restart = await directRestart({
    gatewayPort: direct.port,
    upstreamPort: project.port,
    bodies: bodies.slice().reverse(),
    rate: S.rate,
    beforeMs: S.directBeforeMs,
    downMs: S.directDownMs,
    afterMs: S.directAfterMs,
    clientTimeoutMs: S.clientTimeoutMs,
    stopUpstream: () => g.stop(),
    startUpstream: async () => {
      g = await restartGunicorn(project, 'direct-restart');
    },
    log,
  });
  const directMetrics = await fetch(`http://127.0.0.1:${direct.port}/metrics`, { signal: AbortSignal.timeout(3000) })
    .then((x) => x.text())
    .catch(() => '');
  await stop(direct.child);
  await g.stop();
  const restartSummary = summariseRestart(restart);
  log(
    `  healthy -> first 200: ${restartSummary.firstOkAfterHealthyMs} ms, -> last error: ${restartSummary.lastErrorAfterHealthyMs} ms; ${restartSummary.errors} errors ${JSON.stringify(restartSummary.errorsByStatus)}`,
  );

  // ---- analysis ----
  const failed = (x) => !(x.status === 200 && x.shape === 'prediction');
  const phases = [];
  let from = 0;
  for (const e of events) {
    phases.push({
      name: from === 0 ? 'baseline' : `after ${events[events.indexOf(e) - 1].name}`,
      fromMs: from,
      toMs: e.startMs,
    });
    const to = e.name === 'sighup' ? e.phaseEndMs : e.recoveredMs;
    phases.push({ name: e.name, fault: true, fromMs: e.startMs, toMs: to });
    from = to;
  }
  phases.push({ name: `after ${events.at(-1).name}`, fromMs: from, toMs: Infinity });
  // By send time; a request still in flight when a fault starts belongs to that fault's phase.
  const phaseOf = (x) => {
    let k = phases.findIndex((p) => x.sentMs >= p.fromMs && x.sentMs < p.toMs);
    if (k >= 0 && !phases[k].fault && phases[k + 1]?.fault && x.doneMs >= phases[k + 1].fromMs) k++;
    return k;
  };
  for (const x of records) x.phase = phaseOf(x);
  for (const [k, p] of phases.entries()) {
    const rs = records.filter((x) => x.phase === k);
    const byStatus = {};
    for (const x of rs) {
      const k = x.status === 0 ? `client:${x.error}` : String(x.status);
      byStatus[k] = (byStatus[k] ?? 0) + 1;
    }
    Object.assign(p, {
      toMs: p.toMs === Infinity ? stopAt : p.toMs,
      requests: rs.length,
      successes: rs.filter((x) => !failed(x)).length,
      byStatus,
      maxLatencyMs: rs.length ? Math.max(...rs.map((x) => x.latencyMs)) : 0,
      p50LatencyMs: r1(median(rs.map((x) => x.latencyMs))),
    });
  }

  const noAnswer = records.filter((x) => x.status === 0);
  const malformed = records.filter((x) => x.status !== 0 && !['prediction', 'problem'].includes(x.shape));
  const late = records.filter((x) => x.latencyMs > S.deadlineMs + S.graceMs);
  const maxLatency = Math.max(...records.map((x) => x.latencyMs));
  const recovery = events
    .filter((e) => e.name !== 'sighup')
    .map((e) => {
      // The fault's phase and the quiet phase after it (up to the next fault; requests in flight when the next fault
      // starts belong to that fault).
      const k = phases.findIndex((p) => p.fault && p.name === e.name);
      const errs = records.filter((x) => failed(x) && (x.phase === k || x.phase === k + 1));
      const lastSent = errs.length ? Math.max(...errs.map((x) => x.sentMs)) : undefined;
      const lastDone = errs.length ? Math.max(...errs.map((x) => x.doneMs)) : undefined;
      const lagMs = lastSent === undefined ? undefined : lastSent - e.recoveredMs;
      return {
        fault: e.name,
        recoveredMs: e.recoveredMs,
        errors: errs.length,
        lastErrorSentMs: lastSent,
        lastErrorAnsweredMs: lastDone,
        lagMs,
        lagAnsweredMs: lastDone === undefined ? undefined : lastDone - e.recoveredMs,
        pass: lagMs === undefined || lagMs <= S.recoveryLimitMs,
      };
    });
  const hup = events.find((e) => e.name === 'sighup');
  const hupRecords = records.filter((x) => phases[x.phase]?.name === 'sighup');
  const hupFailed = hupRecords.filter(failed);

  // Detail of the reload: 250 ms bins of send time around the SIGHUP, and gunicorn's own log lines about it.
  const hupBins = [];
  for (let b = -250; b < 3000; b += 250) {
    const rs = records.filter((x) => x.sentMs >= hup.startMs + b && x.sentMs < hup.startMs + b + 250);
    hupBins.push({
      fromMs: b,
      requests: rs.length,
      ok: rs.filter((x) => !failed(x)).length,
      byStatus: countBy(rs.filter(failed), (x) => String(x.status)),
      minLatencyMs: rs.length ? Math.min(...rs.map((x) => x.latencyMs)) : 0,
      maxLatencyMs: rs.length ? Math.max(...rs.map((x) => x.latencyMs)) : 0,
    });
  }
  let gunicornLog = [];
  try {
    gunicornLog = readFileSync(path.join(TMP, 'logs', 'gunicorn-restarted.err'), 'utf8')
      .split('\n')
      .filter(
        (l) => l && !l.includes(' INFO application ') && !/Handling signal: term|Shutting down|Control socket/.test(l),
      )
      // scikit-learn's per-call UserWarning (two lines a prediction) would make this megabytes; gunicorn's own lines stay.
      .filter((l) => !/Warning|warnings\.warn/.test(l))
      .slice(0, 60);
  } catch {
    /* no log */
  }

  const checks = {
    a: {
      name: 'every request got a well-formed answer (no client timeout or connection error; a prediction or a problem+json whose status equals the HTTP status)',
      pass: noAnswer.length === 0 && malformed.length === 0,
      noAnswer: noAnswer.length,
      noAnswerKinds: countBy(noAnswer, (x) => x.error),
      malformed: malformed.length,
      malformedKinds: countBy(malformed, (x) => `${x.status} ${x.shape}`),
      requests: records.length,
    },
    b: {
      name: `no request waited longer than deadline + grace (${S.deadlineMs} + ${S.graceMs} ms)`,
      pass: late.length === 0,
      limitMs: S.deadlineMs + S.graceMs,
      late: late.length,
      maxLatencyMs: maxLatency,
    },
    c: {
      name: `errors stop within ${S.recoveryLimitMs} ms of each fault's end (send time of the last failed request minus the recovery time)`,
      pass: recovery.every((x) => x.pass),
      limitMs: S.recoveryLimitMs,
      perFault: recovery,
    },
    d: {
      name: 'the SIGHUP reload costs no failed request',
      pass: hupFailed.length === 0,
      requests: hupRecords.length,
      failed: hupFailed.length,
      failedByStatus: countBy(hupFailed, (x) => (x.status ? `${x.status} ${x.problemType ?? ''}`.trim() : x.error)),
    },
    f: {
      name: `gateway straight to gunicorn, gunicorn stopped and started: the first 200 and the last error both within ${S.directGoalMs} ms of the upstream answering /health again`,
      pass:
        restartSummary.firstOkAfterHealthyMs !== undefined &&
        restartSummary.firstOkAfterHealthyMs < S.directGoalMs &&
        (restartSummary.lastErrorAfterHealthyMs ?? -1) < S.directGoalMs,
      ...restartSummary,
    },
    e: {
      name: `gateway RSS after the storm within ${Math.round(S.rssTolerance * 100)} % of before`,
      pass: rssAfter !== undefined && rssAfter <= rssBefore * (1 + S.rssTolerance),
      beforeMiB: rssBefore,
      afterMiB: rssAfter,
      peakMiB: rssPeak,
      ratio: rssAfter && r1((rssAfter / rssBefore) * 1000) / 1000,
      settleMs,
    },
  };

  const perSecond = [];
  for (let s = 0; s * 1000 < stopAt; s++) {
    const rs = records.filter((x) => x.sentMs >= s * 1000 && x.sentMs < (s + 1) * 1000);
    perSecond.push({
      s,
      ...countBy(rs, (x) => (x.status === 0 ? 'no-answer' : failed(x) ? String(x.status) : 'ok')),
      maxLatencyMs: rs.length ? Math.max(...rs.map((x) => x.latencyMs)) : 0,
    });
  }

  const metric = (re) => [...metricsText.matchAll(re)].map((m) => m[0]);
  const results = {
    generatedAt: new Date().toISOString(),
    runSeconds: r1((Date.now() - began) / 1000),
    machine: { ...machineInfo(), loadAverageAfter: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    versions: ver,
    settings: {
      ...S,
      procfile: `web: ${project.web}`,
      gunicornCmdArgs: process.env.GUNICORN_CMD_ARGS,
      gatewayEnv,
      gatewayDefaults: defaultsForReport(gatewayDefaults),
      model: project.schema.model,
    },
    warmup: { requests: warm.length, notOk: warmFailed },
    events,
    phases,
    checks,
    pass: Object.values(checks).every((c) => c.pass),
    perSecond,
    sighupDetail: { bins: hupBins, gunicornLog },
    rss,
    proxy: proxy.state.counts,
    gatewayMetrics: metric(
      /^gateway_(upstream_retries_total|upstream_breaker_rejections_total|http_requests_total\{[^}]*route="\/v1\/predict"[^}]*\})[^\n]*/gm,
    ),
    directGatewayMetrics: [
      ...directMetrics.matchAll(
        /^gateway_(upstream_retries_total|upstream_breaker_rejections_total|upstream_breaker_state|http_requests_total\{[^}]*route="\/v1\/predict"[^}]*\})[^\n]*/gm,
      ),
    ].map((m) => m[0]),
    directRestart: { ...restartSummary, perSecond: perSecondOf(restart.records, restart.endMs, restart) },
    stormEndMs,
  };
  // The summary is committed; every request of both runs is kept beside it, git-ignored (757 KB of it in the repo
  // used to drown the diffs of the summary that matters).
  const slim = ({ i, sentMs, doneMs, status, latencyMs, shape, error, problemType }) => ({
    i,
    sentMs,
    doneMs,
    status,
    latencyMs,
    shape,
    error,
    problemType,
  });
  writeFileSync(
    path.join(DIR, 'results-detail.json'),
    `${JSON.stringify({ generatedAt: results.generatedAt, storm: records.map(slim), directRestart: { ...restart, records: restart.records.map(slim) } })}\n`,
  );
  writeFileSync(path.join(DIR, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(path.join(ROOT, 'RELIABILITY.md'), renderReport(results));
  for (const [k, c] of Object.entries(checks)) log(`check (${k}) ${c.pass ? 'PASS' : 'FAIL'}: ${c.name}`);
  log(
    `wrote reliability/results.json (summary), reliability/results-detail.json (every request) and RELIABILITY.md (${r1((Date.now() - began) / 1000)} s)`,
  );
  return results.pass;
}

/** The defaults the gateway ran with, without paths and URLs (they name this machine's folders). */
function defaultsForReport(config) {
  return Object.fromEntries(
    Object.entries(config).filter(
      ([k, v]) => !/PATH|URL/.test(k) && (typeof v !== 'object' || (Array.isArray(v) && v.length)),
    ),
  );
}

/** Per send second of the direct restart: ok / status counts, with marks for stopped (D) and healthy (h). */
function perSecondOf(recs, endMs, r) {
  const out = [];
  for (let s = 0; s * 1000 < endMs; s++) {
    const rs = recs.filter((x) => x.sentMs >= s * 1000 && x.sentMs < (s + 1) * 1000);
    const mark = `${s * 1000 < r.healthyMs && (s + 1) * 1000 > r.stopMs ? 'D' : ''}${r.healthyMs >= s * 1000 && r.healthyMs < (s + 1) * 1000 ? 'h' : ''}`;
    out.push({
      s,
      mark,
      ...countBy(rs, (x) =>
        x.status === 0 ? 'no-answer' : x.status === 200 && x.shape === 'prediction' ? 'ok' : String(x.status),
      ),
      maxLatencyMs: rs.length ? Math.max(...rs.map((x) => x.latencyMs)) : 0,
    });
  }
  return out;
}

function countBy(list, key) {
  const out = {};
  for (const x of list) {
    const k = key(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

try {
  const pass = await main();
  killAll();
  process.exit(pass ? 0 : 1);
} catch (err) {
  process.stderr.write(`reliability: ${err?.stack ?? err}\n`);
  killAll();
  process.exit(2);
}
