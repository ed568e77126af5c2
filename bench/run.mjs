#!/usr/bin/env node
// `npm run bench`: the benchmark suite. Builds what it needs, generates and trains two projects, runs four cases with
// a load generator in its own process, writes bench/results.json, then BENCHMARKS.md and bench/batching-curve.svg.
//
//   node bench/run.mjs [--quick | --smoke] [--only case1,case2,case3,runtime] [--out DIR]
//
// --quick shortens every run (for trying the script out; its numbers are not for the report).
// --smoke runs every case once, for the forest only, each load for a second, a sweep of two points, no waiting for a
// quiet machine, LightGBM and XGBoost models of 10 rounds imported into one runtime's project each (LightGBM sklearn,
// XGBoost onnx), case 5's projects made side by side before case 1 (and any step that binds port 8000), and
// writes results.json, BENCHMARKS.md and the chart to DIR (default: a new temporary folder), never to
// bench/results.json or BENCHMARKS.md. test/measurements-smoke.test.ts runs it, so a broken import or a moved helper
// fails `npm test`; its figures mean nothing.
// --out DIR writes the results (and, for a full or smoke run, the report) to DIR.
// Cases (see BENCHMARKS.md for the goals):
//   1  gateway overhead, batching off: gateway vs a minimal node:http proxy, both before a fixed-response upstream
//   2  micro-batching before the real Flask app under gunicorn (Procfile command): direct vs gateway, and a sweep of
//      the batching window and row cap for the forest
//   3  a 1000-row request end to end vs model.predict in-process, with the split between the handler's steps
//   4  memory of gunicorn's master and workers and of the gateway (sampled during cases 1-3)
//   runtime (case 5)  the same model on the sklearn and the onnx runtime: the service direct (1 and 64 connections,
//      64- and 1000-row requests), worker memory, serving install size, the gateway in front, the in-process split;
//      for the generated projects' models and for a LightGBM and an XGBoost model imported into both runtimes.
//      `--only runtime` runs it alone and updates its section of BENCHMARKS.md in place.
// Every child is in its own process group and is killed on exit, error or Ctrl-C; every wait is bounded.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureLoadTool, runLoad } from './lib/load.mjs';
import { installExitHandlers, machineInfo, makeRows, memory, sleep, stop } from '../harness/index.mjs';
import { quietLog, readChars, skipQuietWait, waitQuiet } from './lib/measure.mjs';
import { BENCH, GATEWAY, ROOT, setup, TMP } from './lib/setup.mjs';
import { summariseCpuProfile } from './lib/cpu-profile.mjs';
import { startBaselineProxy, startFixedUpstream, startGateway, startGunicorn } from './lib/services.mjs';
import { median, pairedRatios, r, spread, summariseRuns } from './lib/stats.mjs';
import { renderReport } from './report.mjs';
import { libraryProjects, SMOKE_RUNTIMES } from './lib/library-models.mjs';
import { onnxTwins, runtimeCase } from './lib/runtime-case.mjs';

installExitHandlers('bench');
const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const quick = argv.includes('--quick') || smoke;
const option = (name) => {
  const arg = argv.find((a) => a === name || a.startsWith(`${name}=`));
  return arg ? (arg.includes('=') ? arg.split('=')[1] : argv[argv.indexOf(arg) + 1]) : undefined;
};
const only = option('--only') ? new Set(option('--only').split(',')) : undefined;
const CASES = ['case1', 'case2', 'case3', 'runtime'];
for (const c of only ?? []) if (!CASES.includes(c)) throw new Error(`--only ${c}: the cases are ${CASES.join(', ')}`);
const wanted = (c) => !only || only.has(c);
const outDir = option('--out') ?? (smoke ? mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bench-smoke-')) : undefined);
if (smoke) skipQuietWait();

// Seconds. Every measured figure is repeated ROUNDS times, each after its own warm-up (none when warm is 0).
const D = smoke
  ? {
      rounds: 1,
      warm: 0,
      measure: 1,
      lowWarm: 0,
      lowMeasure: 1,
      sweepWarm: 0,
      sweepMeasure: 1,
      bigWarm: 0,
      bigMeasure: 1,
      profile: 1,
      idleAfter: 0,
    }
  : quick
    ? {
        rounds: 3,
        warm: 1,
        measure: 2,
        lowWarm: 1,
        lowMeasure: 1,
        sweepWarm: 1,
        sweepMeasure: 1,
        bigWarm: 1,
        bigMeasure: 1,
        profile: 2,
        idleAfter: 1,
      }
    : {
        rounds: 3,
        warm: 2,
        measure: 5,
        lowWarm: 1,
        lowMeasure: 2,
        sweepWarm: 2,
        sweepMeasure: 2,
        bigWarm: 2,
        bigMeasure: 4,
        profile: 5,
        idleAfter: 2,
      };
const CASE1_CONNECTIONS = 32;
const CASE2_CONNECTIONS = 64;
// A smoke run drives the forest only: every case and code path, half the gunicorn starts.
const MODELS = smoke ? ['forest'] : ['forest', 'logreg'];
const SWEEP_WINDOWS = smoke ? [2, 5] : [1, 2, 5, 10];
const SWEEP_CAPS = smoke ? [64] : [16, 64, 256];
const BIG_ROWS = 1000;
// Boosting rounds of the smoke run's LightGBM and XGBoost models (bench/library_model.py fits 300 otherwise).
const SMOKE_LIBRARY_ROUNDS = 10;

const began = Date.now();
const log = (msg) => process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const LOADTMP = path.join(TMP, 'load');
rmSync(path.join(TMP, 'logs'), { recursive: true, force: true });

function fmtRun(x) {
  return `${String(Math.round(x.rps)).padStart(6)} req/s  p50 ${x.p50Ms.toFixed(2)} ms  p99 ${x.p99Ms.toFixed(2)} ms  errors ${x.errors}  cpu ${Object.entries(
    x.cpu,
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`;
}

/** Warm-up run, then the measured run; both against `url`. Memory of `memPids` is polled during the measured run. */
async function warmAndMeasure({
  url,
  bodies,
  connections,
  warm,
  measure,
  watch,
  label,
  memPids = {},
  refused = false,
}) {
  await waitQuiet();
  const warmRun = warm
    ? await runLoad({ url, bodies, connections, seconds: warm, tmpDir: LOADTMP, label: `${label}-warm` })
    : { requests: 0 };
  const peaks = {};
  const poll = setInterval(() => {
    for (const [name, pid] of Object.entries(memPids)) {
      const m = memory(pid);
      if (m && (!peaks[name] || m.rssMiB > peaks[name].rssMiB)) peaks[name] = m;
    }
  }, 250);
  try {
    const result = await runLoad({ url, bodies, connections, seconds: measure, watch, tmpDir: LOADTMP, label });
    // A body meant to be refused is answered 4xx every time: counted as status errors by the load tool, expected here.
    const unexpected = refused ? result.errors - result.errorKinds.status : result.errors;
    if (unexpected > 0) log(`  WARNING ${label}: ${result.errors} errors ${JSON.stringify(result.errorKinds)}`);
    return { ...result, warmRequests: warmRun.requests, peakMemory: peaks };
  } finally {
    clearInterval(poll);
  }
}

function memorySnapshot(pids) {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, { pid, ...memory(pid) }]));
}

/** Requests the service logged: one line each, with its request id. */
function countRequests(file) {
  try {
    const text = readFileSync(file, 'utf8');
    let n = 0;
    for (let i = text.indexOf(' request_id='); i !== -1; i = text.indexOf(' request_id=', i + 1)) n++;
    return n;
  } catch {
    return undefined;
  }
}

async function gatewayBatchStats(port) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const sum = Number(/^gateway_batch_size_rows_sum (\S+)/m.exec(text)?.[1] ?? NaN);
    const count = Number(/^gateway_batch_size_rows_count (\S+)/m.exec(text)?.[1] ?? NaN);
    return { sum, count };
  } catch {
    return { sum: NaN, count: NaN };
  }
}

function fileSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Median `duration_ms` of the app's request log lines for `rows`-row predictions written after `offset`. */
function handlerDurations(file, offset, rows) {
  let text = '';
  try {
    text = readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return { count: 0 };
  }
  const values = [
    ...text.matchAll(new RegExp(`route=/v1/predict status=200 rows=${rows} duration_ms=([\\d.]+)`, 'g')),
  ].map((x) => Number(x[1]));
  return { count: values.length, medianMs: values.length ? r(median(values), 2) : undefined };
}

function python(venv, args, cwd) {
  const res = spawnSync(path.join(venv, 'bin', 'python'), args, {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: process.env,
  });
  if (res.status !== 0) throw new Error(`python ${args.join(' ')} failed: ${res.stderr?.slice(-2000)}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1));
}

// ---------------------------------------------------------------------------------------------------------------
log(
  `generator-sci-eb benchmark${smoke ? ' (--smoke: every case for a second, numbers mean nothing)' : quick ? ' (--quick: short runs, numbers not for the report)' : ''}`,
);
const { projects, venv } = setup(log, MODELS);
// A smoke run installs nothing on the machine: wrk if it is there, else autocannon.
const tool = ensureLoadTool(log, { install: !smoke });
log(`load generator: ${tool.name} ${tool.version}`);
const results = {
  generatedAt: new Date().toISOString(),
  quick,
  smoke,
  machine: { ...machineInfo(), loadAverageBefore: os.loadavg().map((x) => r(x, 2)) },
  versions: {
    node: process.version,
    ...python(venv, [path.join(BENCH, 'inprocess.py'), '--versions'], ROOT),
    loadGenerator: `${tool.name} ${tool.version}`,
    gateway: JSON.parse(readFileSync(path.join(GATEWAY, 'package.json'), 'utf8')).dependencies,
  },
  settings: {
    ...D,
    case1Connections: CASE1_CONNECTIONS,
    case2Connections: CASE2_CONNECTIONS,
    sweepWindowsMs: SWEEP_WINDOWS,
    sweepCaps: SWEEP_CAPS,
    bigRows: BIG_ROWS,
  },
  projects: Object.fromEntries(
    Object.entries(projects).map(([k, p]) => [
      k,
      {
        estimator: p.estimator,
        procfile: `web: ${p.web}`,
        workers: p.workers,
        model: p.schema.model.version,
        artifactBytes: p.artifactBytes,
      },
    ]),
  ),
};
const forest = projects.forest;
const singleBodies = (schema) => makeRows(schema, 64).map((row) => JSON.stringify({ instances: [row] }));

// ---------------------------------------------------------------------------------------------------------------
async function case1() {
  log(`case 1: gateway overhead, batching off (fixed upstream, ${CASE1_CONNECTIONS} connections)`);
  const bodies = singleBodies(forest.schema);
  const upstream = await startFixedUpstream(forest.schemaPath);
  const proxy = await startBaselineProxy(upstream.port);
  const gateway = await startGateway({
    upstreamPort: upstream.port,
    schemaPath: forest.schemaPath,
    env: { BATCH_ENABLED: 'false' },
  });
  // The same gateway without a line per successful request (LOG_LEVEL=warn): the request log's share, same run.
  const quiet = await startGateway({
    upstreamPort: upstream.port,
    schemaPath: forest.schemaPath,
    env: { BATCH_ENABLED: 'false', LOG_LEVEL: 'warn' },
    label: 'gateway (LOG_LEVEL=warn)',
  });
  const gatewayIdle = memorySnapshot(gateway.pids());
  const proxyIdle = memorySnapshot(proxy.pids());
  const setups = {
    direct: { port: upstream.port, watch: upstream.pids() },
    proxy: { port: proxy.port, watch: { ...proxy.pids(), ...upstream.pids() } },
    gateway: { port: gateway.port, watch: { ...gateway.pids(), ...upstream.pids() } },
    gatewayQuiet: { port: quiet.port, watch: { gateway: quiet.pids().gateway, ...upstream.pids() } },
  };
  const names = Object.keys(setups);
  const measureAt = async (connections, warm, measure) => {
    const rounds = [];
    for (let round = 0; round < D.rounds; round++) {
      const row = {};
      // Rotate the order each round so no setup always runs first (or right after another's load).
      for (const name of names.map((_, i) => names[(i + round) % names.length])) {
        const s = setups[name];
        row[name] = await warmAndMeasure({
          url: `http://127.0.0.1:${s.port}/v1/predict`,
          bodies,
          connections,
          warm,
          measure,
          watch: s.watch,
          label: `case1-c${connections}-${name}-r${round + 1}`,
          memPids: name === 'gateway' ? gateway.pids() : name === 'proxy' ? proxy.pids() : {},
        });
        log(`  c=${connections} round ${round + 1} ${name.padEnd(8)} ${fmtRun(row[name])}`);
      }
      rounds.push(row);
    }
    const pick = (name) => rounds.map((x) => x[name]);
    const added = (name) => rounds.map((x) => x[name].p50Ms - x.direct.p50Ms);
    const addedRatio = spread(
      rounds.map((x) => (x.gateway.p50Ms - x.direct.p50Ms) / (x.proxy.p50Ms - x.direct.p50Ms)),
      3,
    );
    return {
      connections,
      runs: rounds,
      summary: Object.fromEntries(names.map((n) => [n, summariseRuns(pick(n))])),
      throughputRatio: pairedRatios(pick('gateway'), pick('proxy'), (x) => x.rps),
      proxyVsDirectThroughput: pairedRatios(pick('proxy'), pick('direct'), (x) => x.rps),
      addedP50Ms: { proxy: spread(added('proxy'), 3), gateway: spread(added('gateway'), 3) },
      addedP50Ratio: addedRatio,
      quietThroughputRatio: pairedRatios(pick('gatewayQuiet'), pick('proxy'), (x) => x.rps),
      quietAddedP50Ratio: spread(
        rounds.map((x) => (x.gatewayQuiet.p50Ms - x.direct.p50Ms) / (x.proxy.p50Ms - x.direct.p50Ms)),
        3,
      ),
    };
  };
  const main = await measureAt(CASE1_CONNECTIONS, D.warm, D.measure);
  await sleep(D.idleAfter * 1000);
  const gatewayAfter = memorySnapshot(gateway.pids());
  const low = await measureAt(1, D.lowWarm, D.lowMeasure);
  await stop(gateway.child);
  await stop(quiet.child);
  await stop(proxy.child);

  // Where the gateway's CPU goes under the same load: node --cpu-prof of a separate, identical gateway.
  log('  cpu profile of the gateway under the case-1 load');
  const profDir = path.join(TMP, 'prof-case1');
  rmSync(profDir, { recursive: true, force: true });
  const profiled = await startGateway({
    upstreamPort: upstream.port,
    schemaPath: forest.schemaPath,
    env: { BATCH_ENABLED: 'false' },
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
    label: 'gateway (cpu-prof)',
  });
  const profile = await profileGateway(profiled, bodies, CASE1_CONNECTIONS, profDir, 'case1');
  await stop(upstream.child);

  const goals = {
    throughput: {
      target: '>= 0.6 of the baseline proxy',
      value: main.throughputRatio.median,
      met: main.throughputRatio.median >= 0.6,
    },
    addedLatency: {
      target: 'added p50 < 1.5x the baseline proxy',
      value: main.addedP50Ratio?.median,
      met: main.addedP50Ratio?.median < 1.5,
    },
  };
  return {
    ...main,
    lowConcurrency: low,
    goals,
    memory: {
      gateway: {
        idle: gatewayIdle.gateway,
        peakUnderLoad: maxPeak(main.runs.map((x) => x.gateway.peakMemory.gateway)),
        after: gatewayAfter.gateway,
      },
      proxy: { idle: proxyIdle.proxy, peakUnderLoad: maxPeak(main.runs.map((x) => x.proxy.peakMemory.proxy)) },
    },
    profile,
  };
}

/** Warm-up, then a profiled stretch of load; only samples inside the measured stretch are summarised. */
async function profileGateway(profiled, bodies, connections, profDir, label) {
  const url = `http://127.0.0.1:${profiled.port}/v1/predict`;
  if (D.warm)
    await runLoad({ url, bodies, connections, seconds: D.warm, tmpDir: LOADTMP, label: `${label}-profile-warm` });
  const from = Number(process.hrtime.bigint() / 1000n) + 500_000;
  const run = await runLoad({
    url,
    bodies,
    connections,
    seconds: D.profile,
    tmpDir: LOADTMP,
    label: `${label}-profile`,
    watch: profiled.pids(),
  });
  const to = Number(process.hrtime.bigint() / 1000n) - 300_000;
  await stop(profiled.child);
  return { rps: run.rps, cpu: run.cpu, ...summariseCpuProfile(profDir, from, to) };
}

function maxPeak(list) {
  return list.filter(Boolean).reduce((a, b) => (!a || b.rssMiB > a.rssMiB ? b : a), undefined);
}

// ---------------------------------------------------------------------------------------------------------------
/** Case 2 for one project (direct vs batching gateway), plus for the forest the sweep; case 3 and 4 while it runs. */
/** The batching settings the gateway runs with when none are set, read from its own config rather than restated. */
async function gatewayBatchDefaults(maxRows) {
  const { loadConfig, DEFAULT_BATCH_MAX_ROWS } = await import(
    pathToFileURL(path.join(GATEWAY, 'dist', 'config.js')).href
  );
  const config = loadConfig({ UPSTREAM_URL: 'http://127.0.0.1:9', ALLOW_ANONYMOUS: 'true' });
  return { windowMs: config.BATCH_WINDOW_MS, maxRows: Math.min(DEFAULT_BATCH_MAX_ROWS, maxRows) };
}

/** CPU milliseconds per request of the listed processes (the load generator's own CPU left out). */
function cpuMsPerRequest(run, names) {
  const cores = names.reduce((a, name) => a + (run.cpu[name] ?? 0), 0);
  return r((cores * 1000) / Math.max(run.rps, 1e-9), 3);
}

/**
 * Case 3, cheap refusals (docs/contract.md): the security review's body, one row of 90,000 made-up names (~760 KB,
 * under maxBodyBytes), against the valid BIG_ROWS-row request, one connection, on each server: CPU per request of the
 * gunicorn workers (direct) and of the gateway (in front of them; the upstream's CPU not counted). The refused body
 * must cost each server no more than the valid request.
 */
async function refusalCost({ url, project, validBody, gunicornPids }) {
  log(`case 3 (${project.name}): the review's refused body vs the valid ${BIG_ROWS}-row request, on each server`);
  const names = Array.from({ length: 90_000 }, (_, i) => i.toString(36));
  const refusedBody = `{"instances":[{${names.map((k) => `"${k}":0`).join(',')}}]}`;
  const gateway = await startGateway({ upstreamPort: project.port, schemaPath: project.schemaPath });
  const servers = {
    service: { url, pids: gunicornPids },
    gateway: { url: `http://127.0.0.1:${gateway.port}/v1/predict`, pids: () => gateway.pids() },
  };
  const out = { refusedBodyBytes: refusedBody.length, validBodyBytes: validBody.length, connections: 1 };
  try {
    for (const [server, target] of Object.entries(servers)) {
      const names = Object.keys(target.pids());
      const cost = { valid: [], refused: [] };
      for (let i = 0; i < D.rounds; i++) {
        for (const [kind, text] of [
          ['valid', validBody],
          ['refused', refusedBody],
        ]) {
          const x = await warmAndMeasure({
            url: target.url,
            bodies: [text],
            connections: 1,
            warm: D.bigWarm,
            measure: D.bigMeasure,
            label: `case3-refusal-${project.name}-${server}-${kind}-r${i + 1}`,
            watch: target.pids(),
            refused: kind === 'refused',
          });
          cost[kind].push({ cpuMsPerRequest: cpuMsPerRequest(x, names), p50Ms: x.p50Ms, requests: x.requests });
        }
      }
      const ratio = pairedRatios(cost.refused, cost.valid, (x) => x.cpuMsPerRequest);
      out[server] = {
        valid: cost.valid,
        refused: cost.refused,
        refusedVsValidCpu: ratio,
        goal: { target: 'refused body CPU <= valid request CPU', value: ratio.median, met: ratio.median <= 1 },
      };
      const med = (k) => median(cost[k].map((x) => x.cpuMsPerRequest));
      log(`  ${server}: CPU per request, refused ${med('refused')} ms vs valid ${med('valid')} ms: ${ratio.median}x`);
    }
  } finally {
    await stop(gateway.child);
  }
  return out;
}

async function withGunicorn(project, { sweep, bigRequest, batching }) {
  log(`gunicorn (${project.name}): ${project.web}`);
  const g = await startGunicorn(project, venv);
  const requestLog = g.logs.stderr;
  const workers0 = g.workerPids();
  const mem = { boot: memorySnapshot(g.pids()), bootSeconds: r(g.bootSeconds, 1), samples: [] };
  const rchar0 = Object.fromEntries(workers0.map((pid) => [pid, readChars(pid)]));
  const sampleMemory = (label) => {
    const snap = memorySnapshot(g.pids());
    mem.samples.push({ label, requestsServed: countRequests(requestLog), ...snap });
  };
  const out = {};
  const url = `http://127.0.0.1:${project.port}/v1/predict`;
  const bodies = singleBodies(project.schema);
  const gunicornWatch = () => g.pids();

  if (batching) {
    log(`case 2 (${project.name}): direct vs gateway with batching (defaults), ${CASE2_CONNECTIONS} connections`);
    const gateway = await startGateway({
      upstreamPort: project.port,
      schemaPath: project.schemaPath,
      env: { BATCH_ENABLED: 'true', REQUEST_DEADLINE_MS: '30000' },
    });
    const gatewayIdle = memorySnapshot(gateway.pids());
    const rounds = [];
    const direct = [];
    for (let round = 0; round < D.rounds; round++) {
      const row = {};
      const order = round % 2 ? ['gateway', 'direct'] : ['direct', 'gateway'];
      for (const name of order) {
        const target = name === 'direct' ? url : `http://127.0.0.1:${gateway.port}/v1/predict`;
        const before =
          name === 'direct' ? Object.fromEntries(g.workerPids().map((pid) => [pid, readChars(pid)])) : undefined;
        const lines0 = countRequests(requestLog);
        const b0 = name === 'gateway' ? await gatewayBatchStats(gateway.port) : undefined;
        row[name] = await warmAndMeasure({
          url: target,
          bodies,
          connections: CASE2_CONNECTIONS,
          warm: D.warm,
          measure: D.measure,
          label: `case2-${project.name}-${name}-r${round + 1}`,
          watch: { ...gunicornWatch(), ...(name === 'gateway' ? gateway.pids() : {}) },
          memPids: { ...g.pids(), ...(name === 'gateway' ? gateway.pids() : {}) },
        });
        if (name === 'gateway') {
          const b1 = await gatewayBatchStats(gateway.port);
          row[name].meanBatchRows = r((b1.sum - b0.sum) / (b1.count - b0.count), 1);
        } else {
          // Bytes the workers read per request served: model.joblib re-read per request would show up here.
          const lines = countRequests(requestLog) - lines0;
          const readBytes = g
            .workerPids()
            .reduce((a, pid) => a + (readChars(pid) - (before[pid] ?? readChars(pid))), 0);
          direct.push({ requests: lines, readBytes, perRequest: r(readBytes / Math.max(1, lines), 0) });
        }
        log(
          `  round ${round + 1} ${name.padEnd(8)} ${fmtRun(row[name])}${row[name].meanBatchRows ? `  mean batch ${row[name].meanBatchRows} rows` : ''}`,
        );
      }
      rounds.push(row);
      sampleMemory(`after case-2 round ${round + 1}`);
    }
    await sleep(D.idleAfter * 1000);
    const gatewayAfter = memorySnapshot(gateway.pids());
    await stop(gateway.child);
    const pick = (name) => rounds.map((x) => x[name]);
    const throughputRatio = pairedRatios(pick('gateway'), pick('direct'), (x) => x.rps);
    const p99Ratio = pairedRatios(pick('gateway'), pick('direct'), (x) => x.p99Ms);
    const target = project.name === 'forest' ? 10 : 2;
    out.batching = {
      connections: CASE2_CONNECTIONS,
      gatewaySettings: await gatewayBatchDefaults(project.schema.limits.maxRows),
      runs: rounds,
      summary: { direct: summariseRuns(pick('direct')), gateway: summariseRuns(pick('gateway')) },
      throughputRatio,
      p99Ratio,
      meanBatchRows: spread(
        pick('gateway').map((x) => x.meanBatchRows),
        1,
      ),
      goals: {
        throughput: {
          target: `>= ${target}x direct`,
          value: throughputRatio.median,
          met: throughputRatio.median >= target,
        },
        p99: { target: 'gateway p99 <= direct p99', value: p99Ratio.median, met: p99Ratio.median <= 1 },
      },
      readBytesPerDirectRequest: direct,
      gatewayMemory: {
        idle: gatewayIdle.gateway,
        peakUnderLoad: maxPeak(pick('gateway').map((x) => x.peakMemory.gateway)),
        after: gatewayAfter.gateway,
      },
    };
  }

  if (sweep) {
    log(`case 2 sweep (${project.name}): window ${SWEEP_WINDOWS.join('/')} ms x cap ${SWEEP_CAPS.join('/')} rows`);
    out.sweep = [];
    for (const windowMs of SWEEP_WINDOWS) {
      for (const cap of SWEEP_CAPS) {
        const gateway = await startGateway({
          upstreamPort: project.port,
          schemaPath: project.schemaPath,
          env: {
            BATCH_ENABLED: 'true',
            BATCH_WINDOW_MS: String(windowMs),
            BATCH_MAX_ROWS: String(cap),
            REQUEST_DEADLINE_MS: '30000',
          },
        });
        const gurl = `http://127.0.0.1:${gateway.port}/v1/predict`;
        await waitQuiet();
        if (D.sweepWarm)
          await runLoad({
            url: gurl,
            bodies,
            connections: CASE2_CONNECTIONS,
            seconds: D.sweepWarm,
            tmpDir: LOADTMP,
            label: `sweep-w${windowMs}-c${cap}-warm`,
          });
        const b0 = await gatewayBatchStats(gateway.port);
        const runs = [];
        for (let i = 0; i < D.rounds; i++) {
          runs.push(
            await runLoad({
              url: gurl,
              bodies,
              connections: CASE2_CONNECTIONS,
              seconds: D.sweepMeasure,
              tmpDir: LOADTMP,
              label: `sweep-w${windowMs}-c${cap}-${i + 1}`,
              watch: { ...gunicornWatch(), ...gateway.pids() },
            }),
          );
        }
        const b1 = await gatewayBatchStats(gateway.port);
        await stop(gateway.child);
        const s = summariseRuns(runs);
        const point = {
          windowMs,
          cap,
          ...s,
          meanBatchRows: r((b1.sum - b0.sum) / (b1.count - b0.count), 1),
          runs: runs.map(({ rps, p50Ms, p99Ms, errors }) => ({ rps, p50Ms, p99Ms, errors })),
        };
        out.sweep.push(point);
        log(
          `  window ${String(windowMs).padStart(2)} ms cap ${String(cap).padStart(3)}: ${s.rps.median} req/s (${s.rps.min}-${s.rps.max})  p50 ${s.p50Ms.median} ms  p99 ${s.p99Ms.median} ms  batch ${point.meanBatchRows} rows  cpu ${JSON.stringify(s.cpu)}`,
        );
      }
    }
    sampleMemory('after the sweep');

    log('  cpu profile of the gateway (batching defaults) under the case-2 load');
    const profDir = path.join(TMP, `prof-case2-${project.name}`);
    rmSync(profDir, { recursive: true, force: true });
    const profiled = await startGateway({
      upstreamPort: project.port,
      schemaPath: project.schemaPath,
      env: { BATCH_ENABLED: 'true', REQUEST_DEADLINE_MS: '30000' },
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
      label: 'gateway (cpu-prof)',
    });
    out.profile = await profileGateway(profiled, bodies, CASE2_CONNECTIONS, profDir, 'case2');
  }

  if (bigRequest) {
    log(`case 3 (${project.name}): one ${BIG_ROWS}-row request, end to end over HTTP vs in-process`);
    const rows = makeRows(project.schema, BIG_ROWS, 7);
    const body = JSON.stringify({ instances: rows });
    const bodyFile = path.join(TMP, `body-${project.name}-${BIG_ROWS}.json`);
    writeFileSync(bodyFile, body);
    const singleFile = path.join(TMP, `body-${project.name}-1.json`);
    writeFileSync(singleFile, JSON.stringify({ instances: rows.slice(0, 1) }));
    const appLog = g.logs.stderr;
    const appLogOffset = fileSize(appLog);
    const e2e = [];
    for (let i = 0; i < D.rounds; i++) {
      const x = await warmAndMeasure({
        url,
        bodies: [body],
        connections: 1,
        warm: D.bigWarm,
        measure: D.bigMeasure,
        label: `case3-${project.name}-r${i + 1}`,
        watch: gunicornWatch(),
      });
      e2e.push(x);
      log(`  HTTP round ${i + 1}: ${fmtRun(x)}`);
    }
    // The app's own request log line carries the handler's time inside the worker (before_request to
    // after_request), measured at the same moments as the HTTP latencies: HTTP + gunicorn = the difference.
    const inWorker = handlerDurations(appLog, appLogOffset, BIG_ROWS);
    // gunicorn is idle now; the in-process timings run in their own Python process with the same venv.
    const inproc = python(
      venv,
      [
        path.join(BENCH, 'inprocess.py'),
        bodyFile,
        '--blocks',
        String(D.rounds),
        '--iterations',
        smoke ? '2' : quick ? '5' : '15',
      ],
      project.dir,
    );
    const inproc1 = python(
      venv,
      [
        path.join(BENCH, 'inprocess.py'),
        singleFile,
        '--blocks',
        String(D.rounds),
        '--iterations',
        smoke ? '3' : quick ? '10' : '30',
        '--profile',
      ],
      project.dir,
    );
    const e2eSummary = summariseRuns(e2e);
    const m = inproc.ms;
    const ratio = {
      median: r(e2eSummary.p50Ms.median / m.modelPredict.median, 3),
      min: r(e2eSummary.p50Ms.min / m.modelPredict.max, 3),
      max: r(e2eSummary.p50Ms.max / m.modelPredict.min, 3),
    };
    const steps = ['parseJson', 'validate', 'buildFrame', 'predictProbaToLists', 'serialise'];
    const stepSum = steps.reduce((a, k) => a + m[k].median, 0);
    out.bigRequest = {
      rows: BIG_ROWS,
      bodyBytes: body.length,
      http: {
        runs: e2e.map(({ rps, p50Ms, p90Ms, p99Ms, errors, cpu }) => ({ rps, p50Ms, p90Ms, p99Ms, errors, cpu })),
        summary: e2eSummary,
      },
      inProcess: inproc,
      singleRow: inproc1,
      ratioEndToEndVsModelPredict: ratio,
      split: {
        parseJsonMs: m.parseJson.median,
        validateMs: m.validate.median,
        buildFrameMs: m.buildFrame.median,
        predictMs: m.predictProbaToLists.median,
        serialiseMs: m.serialise.median,
        sumOfStepsMs: r(stepSum, 3),
        flaskTestClientMs: m.flaskTestClient.median,
        flaskAndWerkzeugMs: r(m.flaskTestClient.median - stepSum, 3),
        handlerInWorkerMs: inWorker.medianMs,
        handlerInWorkerRequests: inWorker.count,
        httpAndGunicornMs:
          inWorker.medianMs === undefined ? undefined : r(e2eSummary.p50Ms.median - inWorker.medianMs, 3),
        endToEndP50Ms: e2eSummary.p50Ms.median,
      },
      goal:
        project.name === 'forest'
          ? { target: 'end-to-end <= 1.5x in-process model.predict', value: ratio.median, met: ratio.median <= 1.5 }
          : undefined,
    };
    out.bigRequest.refusal = await refusalCost({ url, project, validBody: body, gunicornPids: gunicornWatch });
    log(
      `  in-process: model.predict ${m.modelPredict.median} ms, predict_proba+lists ${m.predictProbaToLists.median} ms, parse ${m.parseJson.median}, validate ${m.validate.median}, frame ${m.buildFrame.median}, serialise ${m.serialise.median}, Flask test client ${m.flaskTestClient.median} ms; HTTP p50 ${e2eSummary.p50Ms.median} ms -> ratio ${ratio.median}`,
    );
    sampleMemory('after case 3');
  }

  // Case 4: the same worker processes all along (none restarted), and their memory and read volume per request.
  const workers1 = g.workerPids();
  const rcharTotal = workers1.reduce((a, pid) => a + ((readChars(pid) ?? 0) - (rchar0[pid] ?? 0)), 0);
  const served = countRequests(requestLog);
  out.memory = {
    ...mem,
    workersAtStart: workers0,
    workersAtEnd: workers1,
    sameWorkers: JSON.stringify(workers0) === JSON.stringify(workers1),
    requestsServed: served,
    workerReadBytesTotal: rcharTotal,
    workerReadBytesPerRequest: r(rcharTotal / Math.max(1, served), 0),
    artifactBytes: project.artifactBytes,
  };
  await g.stop();
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
/**
 * The projects case 5 serves, {name: {sklearn, onnx}}: the onnx twins of the generated projects, then the LightGBM and
 * XGBoost models imported into a project of each runtime. A full run makes the libraries' projects, then the twins,
 * one step after the other, just before case 5. A smoke run imports a model of a few rounds into one project per
 * library (LightGBM on sklearn, XGBoost on onnx: every step, both libraries, both runtimes, half the imports), and
 * makes them and the twins side by side, before case 1: none of it binds a port, and an import mostly waits on pip's
 * index. Every step that holds 127.0.0.1:8000 comes after them, so the reliability smoke run that
 * test/measurements-smoke.test.ts starts beside this one has the port meanwhile.
 */
async function makeRuntimeProjects() {
  const schema = projects.forest.schemaPath;
  if (!smoke) {
    const libraries = await libraryProjects(log, schema);
    return { ...(await onnxTwins(log, projects)), ...libraries };
  }
  const options = { runtimes: SMOKE_RUNTIMES, rounds: SMOKE_LIBRARY_ROUNDS, concurrently: true };
  const [twins, libraries] = await Promise.all([onnxTwins(log, projects), libraryProjects(log, schema, options)]);
  return { ...twins, ...libraries };
}
// A smoke run makes them first, before case 1 starts its gateway: made during case 1 (with the reliability smoke run
// beside it in the test), the pip installs starved the gateway's start past its 30 s on a fresh 2-core CI machine.
const runtimeProjects = smoke && wanted('runtime') ? await makeRuntimeProjects() : undefined;

try {
  if (wanted('case1')) results.case1 = await case1();
  if (wanted('case2') || wanted('case3')) {
    results.case2 = {};
    results.case3 = {};
    results.case4 = { gunicorn: {} };
    for (const name of MODELS) {
      const res = await withGunicorn(projects[name], {
        batching: wanted('case2'),
        sweep: wanted('case2') && name === 'forest',
        bigRequest: wanted('case3'),
      });
      if (res.batching) results.case2[name] = res.batching;
      if (res.sweep)
        results.case2.sweep = {
          project: 'forest',
          connections: CASE2_CONNECTIONS,
          points: res.sweep,
          profile: res.profile,
        };
      if (res.bigRequest) results.case3[name] = res.bigRequest;
      results.case4.gunicorn[name] = res.memory;
    }
  }
  if (wanted('runtime')) {
    const RD = smoke
      ? { rounds: 1, warm: 0, measure: 1, quick, smoke, libraryRounds: SMOKE_LIBRARY_ROUNDS }
      : quick
        ? { rounds: 2, warm: 1, measure: 1, quick }
        : { rounds: 3, warm: 1, measure: 3, quick };
    results.settings.runtime = RD;
    results.runtime = await runtimeCase(log, await (runtimeProjects ?? makeRuntimeProjects()), RD);
  }
} finally {
  rmSync(LOADTMP, { recursive: true, force: true });
}

results.machine.loadAverageAfter = os.loadavg().map((x) => r(x, 2));
results.machine.quietWait = { ...quietLog, waitedSeconds: r(quietLog.waitedMs / 1000, 1) };
results.durationSeconds = Math.round((Date.now() - began) / 1000);
const resultsFile = outDir
  ? path.join(outDir, 'results.json')
  : path.join(BENCH, quick ? 'tmp/results.quick.json' : 'results.json');
mkdirSync(path.dirname(resultsFile), { recursive: true });
const runtimeOnly = !quick && only?.size === 1 && only.has('runtime');
// --only runtime keeps the other cases' results (their section of BENCHMARKS.md is rendered from them).
const written =
  runtimeOnly && existsSync(resultsFile)
    ? {
        ...JSON.parse(readFileSync(resultsFile, 'utf8')),
        runtime: results.runtime,
        settings: { ...JSON.parse(readFileSync(resultsFile, 'utf8')).settings, runtime: results.settings.runtime },
      }
    : results;
writeFileSync(resultsFile, `${JSON.stringify(written, null, 2)}\n`);
const rel = (f) => (f.startsWith(ROOT) ? path.relative(ROOT, f) : f);
log(`wrote ${rel(resultsFile)}`);
if (smoke || (!quick && !only)) {
  // A smoke run renders its report too (into its own folder), so a renderer that no longer fits the results fails it.
  const files = renderReport(results, outDir ? { dir: outDir } : {});
  for (const f of files) log(`wrote ${rel(f)}`);
} else if (runtimeOnly) {
  for (const f of renderReport(written, outDir ? { dir: outDir } : {}))
    log(`wrote ${rel(f)} (section 5 from this run, the others from the results before it)`);
} else {
  log('(--quick/--only: BENCHMARKS.md not regenerated; node bench/report.mjs <results> renders any results file)');
}
log(`done in ${results.durationSeconds} s`);
process.exit(0);
