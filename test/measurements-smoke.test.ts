// The smoke tier of the measurements: `node bench/run.mjs --smoke` and `node reliability/run.mjs --smoke` run for
// real (the projects generated and trained, gunicorn and the gateway started, every bench case and every reliability
// scenario driven for a second or so, the reports rendered), into a temporary folder. Nothing else in CI runs the
// bench or the reliability run, so without this a moved helper, a broken import or a renamed option rots them
// unnoticed. What is asserted is that every case ran and produced its figures (numbers where numbers belong), never
// what the figures are: seconds of load on a shared machine measure nothing.
//
// The two runs go side by side, which is what keeps the file near two minutes: the bench first makes every project it
// needs (the onnx twin, the imported LightGBM and XGBoost models: most of a minute of pip, imports and proofs that
// bind no port) while the reliability run holds 127.0.0.1:8000; then the port-8000 lock (in this file's temporary
// folder, which every run inherits) hands the port to the bench and to bench/recovery.mjs in turn. The checkout is
// built once, here, and the runs are told so (SCI_EB_PREBUILT=1): a second build would rewrite files another run is
// importing.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheckout } from '../harness/index.mjs';
import { ROOT } from './helpers.js';

// The committed results and reports: a smoke run must leave every byte of them as it was.
const COMMITTED = [
  'BENCHMARKS.md',
  'bench/results.json',
  'bench/batching-curve.svg',
  'RELIABILITY.md',
  'reliability/results.json',
];
const digest = () =>
  Object.fromEntries(
    COMMITTED.map((f) => [
      f,
      existsSync(path.join(ROOT, f))
        ? createHash('sha256')
            .update(readFileSync(path.join(ROOT, f)))
            .digest('hex')
        : 'absent',
    ]),
  );

const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-measurements-smoke-'));
// A run still going when its test times out (waiting for the port-8000 lock that other suites hold, say) is stopped:
// SIGTERM, on which the runners stop their own children.
const running = new Set<ChildProcess>();
let over = false;
afterAll(() => {
  over = true;
  for (const child of running) child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  output: string;
  tail: string;
  seconds: number;
}

/** Runs `node <script> --smoke [--out <out>]`; resolves with its exit code and output (never rejects). */
function runSmoke(script: string, out?: string): Promise<Run> {
  const started = Date.now();
  // Nothing starts once the file is over (bench/recovery.mjs waits for a reliability run that a timeout stopped).
  if (over) return Promise.resolve({ code: null, output: '', tail: `${script}: not started`, seconds: 0 });
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, script), '--smoke', ...(out ? ['--out', out] : [])], {
      cwd: ROOT,
      env: { ...process.env, SCI_EB_PREBUILT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('close', (code) => {
      running.delete(child);
      resolve({
        code,
        output,
        tail: `${script} --smoke:\n${output.slice(-6000)}`,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** Every path names a finite number in `obj` (the figure was measured, whatever its value). */
function expectFigures(obj: any, paths: string[], where: string) {
  for (const p of paths) {
    const value = p.split('.').reduce((o, k) => o?.[k], obj);
    expect(Number.isFinite(value), `${where}: ${p} = ${JSON.stringify(value)}`).toBe(true);
  }
}

// Taken before any run starts; every test compares with it once its run is over, the last one once all are.
const before = digest();
const out = { bench: path.join(work, 'bench'), reliability: path.join(work, 'reliability') };
let runs: { bench: Promise<Run>; reliability: Promise<Run>; recovery: Promise<Run> };
beforeAll(() => {
  buildCheckout((line) => console.log(line));
  const reliability = runSmoke('reliability/run.mjs', out.reliability);
  runs = {
    bench: runSmoke('bench/run.mjs', out.bench),
    reliability,
    // bench/recovery.mjs measures the breaker's probe interval on the project the reliability run generates.
    recovery: reliability.then(() => runSmoke('bench/recovery.mjs')),
  };
}, 900_000);

describe('measurements, smoke tier', () => {
  it('npm run bench --smoke: every case runs, measures and renders', async () => {
    const run = await runs.bench;
    expect(run.code, run.tail).toBe(0);
    const R = json(path.join(out.bench, 'results.json'));
    expect(R.smoke).toBe(true);

    const loads = ['rps.median', 'p50Ms.median', 'p99Ms.median'];
    for (const setup of ['direct', 'proxy', 'gateway', 'gatewayQuiet'])
      expectFigures(R.case1.summary[setup], loads, `case 1 ${setup}`);
    for (const setup of ['direct', 'proxy', 'gateway'])
      expectFigures(R.case1.lowConcurrency.summary[setup], loads, `case 1, 1 connection, ${setup}`);
    expectFigures(
      R.case1,
      ['throughputRatio.median', 'memory.gateway.idle.rssMiB', 'memory.gateway.after.rssMiB', 'profile.rps'],
      'case 1',
    );
    expect(R.case1.profile.byCaller.length, 'case 1 cpu profile').toBeGreaterThan(0);

    // The smoke run drives the forest only (the full run adds the logistic regression through the same code).
    const models = Object.keys(R.projects);
    expect(models).toContain('forest');
    for (const model of models) {
      const c2 = R.case2[model];
      for (const setup of ['direct', 'gateway']) expectFigures(c2.summary[setup], loads, `case 2 ${model} ${setup}`);
      expectFigures(
        c2,
        ['throughputRatio.median', 'meanBatchRows.median', 'gatewaySettings.windowMs', 'gatewayMemory.idle.rssMiB'],
        `case 2 ${model}`,
      );
      expectFigures(
        R.case3[model],
        [
          'http.summary.p50Ms.median',
          'inProcess.ms.modelPredict.median',
          'split.predictMs',
          'split.parseJsonMs',
          // the review's refused body against the valid request, on each server
          'refusal.service.refusedVsValidCpu.median',
          'refusal.gateway.refusedVsValidCpu.median',
          'refusal.gateway.refused.0.cpuMsPerRequest',
        ],
        `case 3 ${model}`,
      );
      expectFigures(
        R.case4.gunicorn[model],
        ['boot.gunicornMaster.rssMiB', 'boot.worker1.rssMiB', 'requestsServed', 'workerReadBytesPerRequest'],
        `case 4 ${model}`,
      );
    }
    // Case 5: the generated projects' models on both runtimes (and their ratios); the LightGBM and XGBoost models
    // imported into one runtime's project each, so both libraries and both runtimes go through the import.
    const served: Record<string, string[]> = {
      ...Object.fromEntries(models.map((model) => [model, ['sklearn', 'onnx']])),
      lightgbm: ['sklearn'],
      xgboost: ['onnx'],
    };
    for (const [model, runtimes] of Object.entries(served)) {
      expect(
        ['sklearn', 'onnx'].filter((runtime) => R.runtime[model]?.[runtime]),
        `runtimes ${model} was measured on`,
      ).toEqual(runtimes);
      for (const runtime of runtimes) {
        const rt = R.runtime[model][runtime];
        for (const shape of ['single1', 'single64', 'rows64', 'rows1000', 'gateway64'])
          expectFigures(rt[shape], loads, `runtime ${model} ${runtime} ${shape}`);
        expectFigures(
          rt,
          ['workerPeakRssMiB', 'servingVenvMiB', 'bootSeconds', 'inProcess.ms.modelCall'],
          `runtime ${model} ${runtime}`,
        );
      }
      if (runtimes.length === 2)
        expectFigures(
          R.runtime[model].ratios,
          ['single1Throughput.median', 'single64Throughput.median', 'workerRss'],
          `runtime ${model} ratios`,
        );
    }
    expect(R.case2.sweep.points.length, 'case 2 sweep').toBeGreaterThan(1);
    for (const point of R.case2.sweep.points)
      expectFigures(point, [...loads, 'meanBatchRows'], `sweep ${point.windowMs} ms x ${point.cap}`);
    expectFigures(R.case2.sweep, ['profile.rps'], 'case 2 sweep profile');

    const md = readFileSync(path.join(out.bench, 'BENCHMARKS.md'), 'utf8');
    for (const section of ['## 1. ', '## 2. ', '## 3. ', '## 4. ', '## 5. ', '## What limits'])
      expect(md, `BENCHMARKS.md of the smoke run has ${section}`).toContain(section);
    expect(existsSync(path.join(out.bench, 'batching-curve.svg'))).toBe(true);
    expect(digest(), 'the committed results and reports are untouched').toEqual(before);
    console.log(`bench --smoke: ${run.seconds.toFixed(0)} s`);
  }, 900_000);

  it('npm run reliability --smoke: every scenario runs, is analysed and renders', async () => {
    const run = await runs.reliability;
    // In smoke mode the checks' verdicts do not decide the exit status (seconds of load); a crash does.
    expect(run.code, run.tail).toBe(0);
    const R = json(path.join(out.reliability, 'results.json'));
    expect(R.smoke).toBe(true);

    expect(R.storms.length, 'storms').toBeGreaterThanOrEqual(2);
    for (const storm of R.storms)
      expectFigures(
        storm,
        ['requests', 'failed', 'rssPeakMiB', 'after.rssMiB', 'maxLatencyMs'],
        `storm ${storm.index}`,
      );
    expect(R.events.map((e: { name: string }) => e.name)).toEqual(['kill', 'slow', '503', 'sighup']);
    for (const e of R.events) expectFigures(e, ['startMs', 'endMs', 'recoveredMs'], `fault ${e.name}`);
    for (const p of R.phases) expectFigures(p, ['fromMs', 'toMs', 'requests', 'successes'], `phase ${p.name}`);
    expectFigures(R.memory.before, ['rssMiB'], 'memory before the storms');

    expect(Object.keys(R.checks).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    for (const [key, check] of Object.entries<any>(R.checks))
      expect(typeof check.pass, `check (${key})`).toBe('boolean');
    expectFigures(R.checks.a, ['requests', 'noAnswer', 'malformed'], 'check (a)');
    expectFigures(R.checks.b, ['maxLatencyMs', 'late'], 'check (b)');
    expect(R.checks.c.perFault.length, 'check (c): kill, slow and 503 of every storm').toBe(3 * R.storms.length);
    expectFigures(R.checks.d, ['requests', 'failed'], 'check (d)');
    expectFigures(R.checks.e, ['beforeMiB', 'afterFirstMiB', 'afterLastMiB', 'growthMiB', 'growthRatio'], 'check (e)');
    expect(R.checks.e.afterEachMiB.length).toBe(R.storms.length);
    expectFigures(R.checks.f, ['requests', 'stopMs', 'stoppedMs', 'startMs', 'healthyMs'], 'check (f)');
    expect(R.directRestart.perSecond.length, 'direct restart timeline').toBeGreaterThan(0);

    const md = readFileSync(path.join(out.reliability, 'RELIABILITY.md'), 'utf8');
    for (const section of [
      '**Smoke run**',
      '## Storms in a row',
      '## Checks',
      '* (e) ',
      '## Gunicorn stopped and started',
    ])
      expect(md, `RELIABILITY.md of the smoke run has ${section}`).toContain(section);
    expect(existsSync(path.join(out.reliability, 'results-detail.json'))).toBe(true);
    expect(digest(), 'the committed results and reports are untouched').toEqual(before);
    console.log(`reliability --smoke: ${run.seconds.toFixed(0)} s`);
  }, 900_000);

  // bench/recovery.mjs measures the breaker's probe interval on the project `npm run reliability` generates; it ran
  // once the reliability smoke run had generated it.
  it('bench/recovery.mjs --smoke: the probe-interval measurement runs', async () => {
    const run = await runs.recovery;
    expect(run.code, run.tail).toBe(0);
    const rows = run.output
      .split('\n')
      .filter((l) => l.startsWith('{"round"'))
      .map((l) => JSON.parse(l));
    expect(rows.length, run.tail).toBe(1);
    expectFigures(rows[0], ['interval', 'probes', 'probesPerS', 'errors'], 'recovery');
    expect(run.output).toContain('| BREAKER_PROBE_MS |');
    // Every run is over now.
    expect(digest(), 'the committed results and reports are untouched').toEqual(before);
    console.log(`bench/recovery.mjs --smoke: ${run.seconds.toFixed(0)} s`);
  }, 900_000);
});
