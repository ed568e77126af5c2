// Case 5: the same model served by the sklearn runtime and by the onnx runtime (`--runtime onnx`), the generated
// service direct (gunicorn as the Procfile says, from a venv with the project's requirements.txt alone, as on EB), for
// the forest and the logistic regression: single-row requests at 1 and 64 connections, 64-row and 1000-row requests,
// worker memory, the installed size of the serving requirements, the gateway (batching defaults) in front of each,
// and the in-process split of a single-row request (bench/runtime_inprocess.py).
//
// The Procfile binds 127.0.0.1:8000, so the two runtimes run one after the other under the port-8000 lock, and each
// figure is the median of rounds; the ratios compare runs of the same benchmark run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { acquirePort8000, makeRows, memory, runStepAsync, sharedVenv, stop } from '../../harness/index.mjs';
import { runLoad } from './load.mjs';
import { waitQuiet } from './measure.mjs';
import { BENCH, ROOT, TMP } from './setup.mjs';
import { startGateway, startGunicorn } from './services.mjs';
import { pairedRatios, r, summariseRuns } from './stats.mjs';

const RUNTIMES = ['sklearn', 'onnx'];
// The models of the section, in its order: the generated projects', then the imported libraries'.
const MODELS = ['forest', 'logreg', 'lightgbm', 'xgboost'];
const CONNECTIONS = 64;

/** The onnx twin of a trained sklearn project: the same answers plus --runtime onnx, trained from the same data and seed. */
async function onnxTwin(log, project) {
  const dir = `${project.dir}-onnx`;
  const name = path.basename(dir);
  await runStepAsync(
    log,
    `generate ${name}`,
    process.execPath,
    [
      path.join(ROOT, 'bin', 'sci-eb.js'),
      'app',
      name,
      '--answers',
      path.join(ROOT, '.yo-rc.json'),
      '--estimator',
      project.estimator,
      '--runtime',
      'onnx',
      '--skip-install',
    ],
    { cwd: path.dirname(dir) },
  );
  const devVenv = sharedVenv('app', [path.join(dir, 'requirements-dev.txt')], log);
  await runStepAsync(log, `make train (${name})`, 'make', ['--no-print-directory', `VENV=${devVenv}`, 'train'], {
    cwd: dir,
  });
  const schemaPath = path.join(dir, 'model', 'schema.json');
  return { ...project, name, dir, schemaPath, schema: JSON.parse(readFileSync(schemaPath, 'utf8')) };
}

function installedMiB(venv) {
  const out = spawnSync('du', ['-sk', path.join(venv, 'lib')], { encoding: 'utf8' }).stdout;
  return r(Number(out.split(/\s+/)[0]) / 1024, 1);
}

async function measure(url, bodies, connections, D, label, watch, memPids) {
  const runs = [];
  const peaks = {};
  for (let round = 0; round < D.rounds; round++) {
    await waitQuiet();
    if (D.warm)
      await runLoad({
        url,
        bodies,
        connections,
        seconds: D.warm,
        tmpDir: path.join(TMP, 'load'),
        label: `${label}-warm`,
      });
    const poll = setInterval(() => {
      for (const [k, pid] of Object.entries(memPids())) {
        const m = memory(pid);
        if (m && (!peaks[k] || m.rssMiB > peaks[k])) peaks[k] = m.rssMiB;
      }
    }, 250);
    try {
      runs.push(
        await runLoad({
          url,
          bodies,
          connections,
          seconds: D.measure,
          watch: watch(),
          tmpDir: path.join(TMP, 'load'),
          label: `${label}-r${round + 1}`,
        }),
      );
    } finally {
      clearInterval(poll);
    }
  }
  return {
    ...summariseRuns(runs),
    runs: runs.map(({ rps, p50Ms, p99Ms, errors }) => ({ rps, p50Ms, p99Ms, errors })),
    peakRssMiB: peaks,
  };
}

function python(venv, args, cwd) {
  const res = spawnSync(path.join(venv, 'bin', 'python'), args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (res.status !== 0) throw new Error(`python ${args.join(' ')} failed: ${res.stderr?.slice(-2000)}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1));
}

/** One runtime of one model: the service direct (4 shapes of load), then the gateway with batching before it. */
async function serveAndMeasure(log, project, D) {
  const venv = sharedVenv('serve', [path.join(project.dir, 'requirements.txt')], log);
  const g = await startGunicorn(project, venv);
  const url = `http://127.0.0.1:${project.port}/v1/predict`;
  const body = (n, seed) => JSON.stringify({ instances: makeRows(project.schema, n, seed) });
  const single = makeRows(project.schema, 64).map((row) => JSON.stringify({ instances: [row] }));
  const workers = () => Object.fromEntries(Object.entries(g.pids()).filter(([k]) => k.startsWith('worker')));
  const out = {
    servingVenvMiB: installedMiB(venv),
    bootSeconds: r(g.bootSeconds, 1),
    idleWorkerRssMiB: Object.values(workers()).map((pid) => memory(pid)?.rssMiB),
  };
  const shapes = {
    single1: [single, 1],
    single64: [single, CONNECTIONS],
    rows64: [[body(64, 3)], 1],
    rows1000: [[body(1000, 7)], 1],
  };
  for (const [shape, [bodies, connections]] of Object.entries(shapes)) {
    out[shape] = await measure(
      url,
      bodies,
      connections,
      D,
      `runtime-${project.name}-${shape}`,
      () => g.pids(),
      workers,
    );
    log(
      `  ${project.name.padEnd(12)} ${shape.padEnd(9)} ${String(out[shape].rps.median).padStart(7)} req/s  p50 ${out[shape].p50Ms.median} ms  p99 ${out[shape].p99Ms.median} ms  errors ${out[shape].errors}  worker RSS ${JSON.stringify(out[shape].peakRssMiB)} MiB`,
    );
  }
  const gateway = await startGateway({
    upstreamPort: project.port,
    schemaPath: project.schemaPath,
    env: { BATCH_ENABLED: 'true', REQUEST_DEADLINE_MS: '30000' },
    label: `gateway ${project.name}`,
  });
  out.gateway64 = await measure(
    `http://127.0.0.1:${gateway.port}/v1/predict`,
    single,
    CONNECTIONS,
    D,
    `runtime-${project.name}-gateway`,
    () => ({ ...g.pids(), ...gateway.pids() }),
    workers,
  );
  log(
    `  ${project.name.padEnd(12)} gateway   ${String(out.gateway64.rps.median).padStart(7)} req/s  p50 ${out.gateway64.p50Ms.median} ms  p99 ${out.gateway64.p99Ms.median} ms  errors ${out.gateway64.errors}`,
  );
  await stop(gateway.child);
  await g.stop();
  // gunicorn is stopped: the in-process split runs alone, in the same serving venv.
  const singleFile = path.join(TMP, `runtime-${project.name}-1.json`);
  writeFileSync(singleFile, single[0]);
  out.inProcess = python(
    venv,
    [path.join(BENCH, 'runtime_inprocess.py'), singleFile, '--iterations', D.smoke ? '20' : D.quick ? '50' : '300'],
    project.dir,
  );
  const allRss = Object.values(out).flatMap((x) => (x?.peakRssMiB ? Object.values(x.peakRssMiB) : []));
  out.workerPeakRssMiB = allRss.length ? Math.max(...allRss) : undefined;
  return out;
}

/** {name: {sklearn, onnx}}: each trained sklearn project of `projects` with its onnx twin, made one after the other. */
export async function onnxTwins(log, projects) {
  const pairs = {};
  for (const [name, project] of Object.entries(projects))
    pairs[name] = { sklearn: project, onnx: await onnxTwin(log, project) };
  return pairs;
}

/**
 * Every project of `pairs` ({name: {sklearn, onnx}}: onnxTwins, then the imported LightGBM and XGBoost models of
 * bench/lib/library-models.mjs, on both runtimes each or in the smoke run on one) served and measured, in turn under
 * the port-8000 lock; a model on both runtimes gets the onnx/sklearn ratios.
 */
export async function runtimeCase(log, pairs, D) {
  mkdirSync(path.join(TMP, 'load'), { recursive: true });
  log('case 5: the sklearn runtime vs the onnx runtime, same model, the service direct and behind the gateway');
  const loadAverage = (await import('node:os')).loadavg().map((x) => r(x, 2));
  const release = await acquirePort8000({ onWait: (pid) => log(`  waiting for the port-8000 lock (pid ${pid})`) });
  const out = { measuredAt: new Date().toISOString(), loadAverage };
  try {
    for (const name of Object.keys(pairs)) {
      out[name] = {};
      for (const runtime of RUNTIMES)
        if (pairs[name][runtime]) out[name][runtime] = await serveAndMeasure(log, pairs[name][runtime], D);
      if (!out[name].sklearn || !out[name].onnx) continue;
      const [sk, ox] = [out[name].sklearn, out[name].onnx];
      const ratio = (shape, pick) => pairedRatios(ox[shape].runs, sk[shape].runs, pick);
      out[name].ratios = {
        single1Throughput: ratio('single1', (x) => x.rps),
        single64Throughput: ratio('single64', (x) => x.rps),
        rows64Throughput: ratio('rows64', (x) => x.rps),
        rows1000Throughput: ratio('rows1000', (x) => x.rps),
        gateway64Throughput: ratio('gateway64', (x) => x.rps),
        workerRss: r(ox.workerPeakRssMiB / sk.workerPeakRssMiB, 3),
        servingVenv: r(ox.servingVenvMiB / sk.servingVenvMiB, 3),
      };
      log(
        `  ${name}: onnx/sklearn throughput single c1 ${out[name].ratios.single1Throughput?.median}x, c${CONNECTIONS} ${out[name].ratios.single64Throughput?.median}x, 64 rows ${out[name].ratios.rows64Throughput?.median}x, 1000 rows ${out[name].ratios.rows1000Throughput?.median}x; worker RSS ${out[name].ratios.workerRss}; serving venv ${out[name].ratios.servingVenv}`,
      );
    }
  } finally {
    release();
  }
  const f = out.forest;
  out.goals = {
    forestSingleRowThroughput: {
      target: 'onnx >= 8x sklearn (single-row, 64 connections)',
      value: f.ratios.single64Throughput?.median,
      met: f.ratios.single64Throughput?.median >= 8,
    },
    forestP50OneConnection: {
      target: 'onnx p50 < 2 ms at 1 connection',
      value: f.onnx.single1.p50Ms.median,
      met: f.onnx.single1.p50Ms.median < 2,
    },
    forestWorkerRss: {
      target: 'onnx worker RSS <= 0.5x sklearn',
      value: f.ratios.workerRss,
      met: f.ratios.workerRss <= 0.5,
    },
  };
  return out;
}

const cell = (s) => (s ? `${s.median} (${s.min}-${s.max})` : '-');

/** The markdown of case 5 for BENCHMARKS.md. */
export function renderRuntimeSection(rt, settings) {
  const models = MODELS.filter((name) => rt[name]);
  // A model measured on both runtimes (every one in a full run; in a smoke run the libraries have one each).
  const paired = models.filter((name) => rt[name].ratios);
  const served = (name) => RUNTIMES.filter((runtime) => rt[name][runtime]);
  const lines = ['## 5. Runtimes: sklearn vs onnx, the same model', ''];
  if (rt.measuredAt)
    lines.push(
      `Measured ${rt.measuredAt.slice(0, 16).replace('T', ' ')} UTC${rt.loadAverage ? `, load average (1/5/15 min) ${rt.loadAverage.join(' / ')} at the start` : ''}.`,
      '',
    );
  lines.push(
    `The generated service direct (gunicorn from the Procfile, ${settings?.workers ?? 2} workers, each runtime in a venv with its project's requirements.txt alone, as EB installs it), then the gateway (batching defaults) in front; iris, the same data and seed; the onnx project's model is the same pipeline converted and proven on the held-out rows. lightgbm and xgboost: a classifier of 300 rounds (900 trees) on jittered iris features (bench/library_model.py), imported with \`sci-eb model import\` into a project of each runtime (the sklearn one installs the library on EB; the onnx one converts it with onnxmltools, proven on the 200-row sample). The two runtimes run one after the other (the Procfile's port is one), so the machine's other load shifts between them: medians of ${settings?.rounds ?? 3} rounds, (min-max).`,
    '',
  );
  const unpaired = models.filter((name) => !rt[name].ratios);
  if (settings?.smoke && unpaired.length)
    lines.push(
      `This smoke run fitted ${settings.libraryRounds ?? 300} rounds and imported each library into one runtime's project only: ${unpaired.map((name) => `${name} (${served(name).join(', ')})`).join(', ')}.`,
      '',
    );
  lines.push(
    '| model | runtime | 1 row, 1 conn req/s | p50 ms | 1 row, 64 conns req/s | p99 ms | 64 rows req/s | 1000 rows req/s | gateway 64 conns req/s | worker RSS MiB (peak) | serving venv MiB |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const name of models) {
    for (const runtime of served(name)) {
      const x = rt[name][runtime];
      lines.push(
        `| ${name} | ${runtime} | ${cell(x.single1.rps)} | ${cell(x.single1.p50Ms)} | ${cell(x.single64.rps)} | ${cell(x.single64.p99Ms)} | ${cell(x.rows64.rps)} | ${cell(x.rows1000.rps)} | ${cell(x.gateway64.rps)} | ${x.workerPeakRssMiB} | ${x.servingVenvMiB} |`,
      );
    }
  }
  lines.push(
    '',
    'onnx / sklearn, paired by round:',
    '',
    '| model | 1 row, 1 conn | 1 row, 64 conns | 64 rows | 1000 rows | gateway | worker RSS | serving venv |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const name of paired) {
    const q = rt[name].ratios;
    lines.push(
      `| ${name} | ${cell(q.single1Throughput)} | ${cell(q.single64Throughput)} | ${cell(q.rows64Throughput)} | ${cell(q.rows1000Throughput)} | ${cell(q.gateway64Throughput)} | ${q.workerRss} | ${q.servingVenv} |`,
    );
  }
  lines.push('', 'Goals (forest):', '');
  for (const g of Object.values(rt.goals)) lines.push(`- ${g.target}: ${g.value} ${g.met ? '(met)' : '(NOT met)'}`);
  lines.push(
    '',
    'Where a single-row request goes inside a worker (bench/runtime_inprocess.py, medians in ms; the rest of the HTTP p50 at 1 connection is gunicorn and the socket):',
    '',
  );
  lines.push(
    '| model | runtime | parse JSON | validate | build input | model call | whole answer | serialise | Flask test client | HTTP p50 | imported |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const name of models) {
    for (const runtime of served(name)) {
      const x = rt[name][runtime];
      const m = x.inProcess.ms;
      lines.push(
        `| ${name} | ${runtime} | ${m.parseJson} | ${m.validate} | ${m.buildInput} | ${m.modelCall} | ${m.answer} | ${m.serialise} | ${m.flaskTestClient} | ${x.single1.p50Ms.median} | ${x.inProcess.imported.join(', ') || 'none of sklearn/scipy/pandas/skops'} |`,
      );
    }
  }
  lines.push('');
  for (const name of paired) {
    const [sk, ox] = [rt[name].sklearn, rt[name].onnx];
    const m = ox.inProcess.ms;
    const steps = m.parseJson + m.validate + m.answer + m.serialise;
    const flask = m.flaskTestClient - steps;
    const http = ox.single1.p50Ms.median - m.flaskTestClient;
    lines.push(
      `- ${name}, where the onnx runtime's single-row time goes: of the ${ox.single1.p50Ms.median} ms HTTP p50 at 1 connection, the onnxruntime call is ${m.modelCall} ms and the whole answer (input columns, call, lists) ${m.answer} ms; parsing ${m.parseJson} ms, validation ${m.validate} ms, serialising ${m.serialise} ms; Flask and Werkzeug around them ${r(flask, 3)} ms (request and response objects, routing, hooks, the request log line); the HTTP p50 minus the test client's time, i.e. gunicorn, the socket and the load generator, ${r(http, 3)} ms (measured at other moments than the in-process figures, so it is the noisiest number here). On the sklearn runtime the model call alone is ${sk.inProcess.ms.modelCall} ms (${r(sk.inProcess.ms.modelCall / Math.max(m.modelCall, 1e-6), 0)}x onnxruntime's) and building the DataFrame ${sk.inProcess.ms.buildInput} ms; the worker imports ${sk.inProcess.imported.join(', ')} (onnx: ${ox.inProcess.imported.join(', ')}).`,
    );
  }
  lines.push(
    '',
    "The machine is shared (2 cores, other engineers' test suites running): single figures swing by 2x or more between rounds, and the sklearn runtime's far more than the onnx runtime's (its 13-24 ms single-row calls are often preempted), so read the paired ratios, not the absolute numbers.",
    '',
  );
  lines.push(
    'Run it alone: `node bench/run.mjs --only runtime` (about 10 minutes; re-renders this file with this section from that run and the others from `bench/results.json`; `--quick` for a short try).',
    '',
  );
  return lines.join('\n');
}

/** Replace (or add, before "What limits") section 5 of BENCHMARKS.md. */
export function spliceRuntimeSection(markdown, section) {
  const start = markdown.indexOf('## 5. Runtimes');
  if (start >= 0) {
    const next = markdown.indexOf('\n## ', start + 1);
    return `${markdown.slice(0, start)}${section.trimEnd()}\n\n${next >= 0 ? markdown.slice(next + 1) : ''}`;
  }
  const at = markdown.indexOf('## What limits');
  return at >= 0 ? `${markdown.slice(0, at)}${section.trimEnd()}\n\n${markdown.slice(at)}` : `${markdown}\n${section}`;
}
