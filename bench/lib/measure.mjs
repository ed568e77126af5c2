// What the benchmark alone measures of running processes and of the machine, from /proc: CPU per process and per
// core, bytes read, and a wait for a quiet machine before each measurement. Memory (RSS and PSS) and the machine's
// description are shared with reliability/, so they live in harness/measure.mjs.
import { readFileSync } from 'node:fs';
import { CLK_TCK, cpuSeconds, sleep } from '../../harness/index.mjs';

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Machine-wide busy and total CPU seconds (all cores) from /proc/stat. */
export function machineCpu() {
  const line = read('/proc/stat').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** Bytes a process has read through read(2)-like calls (files and sockets alike), from /proc/<pid>/io. */
export function readChars(pid) {
  const io = read(`/proc/${pid}/io`);
  return io ? Number(/rchar:\s+(\d+)/.exec(io)?.[1]) : undefined;
}

export function round(x, digits = 2) {
  if (x === undefined || x === null || Number.isNaN(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * CPU use of named processes (and the whole machine) between two calls: `const s = cpuSampler({gateway: pid});
 * ...; s.done()` -> { cores: { gateway: 0.93, ... , machine: 1.98, other: 0.05 }, seconds }. "cores" is CPU seconds
 * per wall second (2.0 = both cores of this machine busy); "other" is what the machine did besides the listed ones.
 */
export function cpuSampler(pids) {
  const t0 = process.hrtime.bigint();
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const m0 = machineCpu();
  const self0 = process.cpuUsage();
  return {
    done() {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const m1 = machineCpu();
      const cores = {};
      let listed = 0;
      for (const [name, pid] of Object.entries(pids)) {
        const end = cpuSeconds(pid);
        if (start[name] === undefined || end === undefined) continue;
        cores[name] = round((end - start[name]) / wall, 2);
        listed += end - start[name];
      }
      const self = process.cpuUsage(self0);
      const selfSeconds = (self.user + self.system) / 1e6;
      cores.orchestrator = round(selfSeconds / wall, 2);
      cores.machine = round((m1.busy - m0.busy) / wall, 2);
      cores.other = round(Math.max(0, (m1.busy - m0.busy - listed - selfSeconds) / wall), 2);
      return { seconds: round(wall, 2), cores };
    },
  };
}

// ---- a quiet machine ----

let quietBudgetMs = Number(process.env.BENCH_QUIET_BUDGET_S ?? 60) * 1000;
let skipQuiet = false;
export const quietLog = { waitedMs: 0, gaveUp: 0, checks: 0 };

/** For `--smoke`: no waiting (and no half-second sample) before each measurement. */
export function skipQuietWait() {
  skipQuiet = true;
}

/**
 * Other jobs on this 2-core machine (test suites, installs) distort every number. Before a measurement, wait (at
 * most `maxMs`, and at most BENCH_QUIET_BUDGET_S seconds over the whole run) until the machine's busy CPU,
 * sampled over half a second while our own servers are idle, is below `threshold` cores. Measurements that ran on a
 * busy machine anyway are visible in their "other" CPU column.
 */
export async function waitQuiet(threshold = 0.35, maxMs = 15_000) {
  if (skipQuiet) return;
  quietLog.checks++;
  const until = Date.now() + Math.min(maxMs, quietBudgetMs);
  const started = Date.now();
  for (;;) {
    const m0 = machineCpu();
    await sleep(500);
    const m1 = machineCpu();
    const busy = (m1.busy - m0.busy) / 0.5;
    if (busy < threshold) break;
    if (Date.now() >= until) {
      quietLog.gaveUp++;
      break;
    }
  }
  const waited = Date.now() - started - 500;
  quietBudgetMs = Math.max(0, quietBudgetMs - waited);
  quietLog.waitedMs += Math.max(0, waited);
}
