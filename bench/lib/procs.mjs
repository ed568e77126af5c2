// Child processes, ports and /proc readings for the benchmark. Every child is started in its own process group
// (detached), registered here, and killed (the whole group: gunicorn's workers too) when the benchmark exits, fails
// or is interrupted. Nothing is ever killed by name.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

const live = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

export function killAll() {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

let handlersInstalled = false;
export function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping children\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`);
    killAll();
    process.exit(1);
  });
}

/**
 * Starts `command args` detached (its own process group). stdout/stderr go to files (or /dev/null) so that no pipe
 * has to be drained by this process, whose CPU time would otherwise compete with what is measured.
 */
export function start(name, command, args, { cwd, env, stdout = '/dev/null', stderr = '/dev/null', capture = false } = {}) {
  const out = capture ? 'pipe' : openSync(stdout, 'w');
  const err = capture ? 'pipe' : openSync(stderr, 'w');
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', out, err] });
  if (!capture) {
    closeSync(out);
    closeSync(err);
  }
  child.benchName = name;
  live.add(child);
  child.exited = once(child, 'exit').then(([code, signal]) => {
    live.delete(child);
    return { code, signal };
  });
  child.on('error', () => live.delete(child));
  return child;
}

/** SIGTERM to the group, then SIGKILL after `graceMs`. Resolves when the leader has exited. */
export async function stop(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
  // Workers of a group leader that exited first (should not happen with gunicorn, but bounded either way).
  killGroup(child, 'SIGKILL');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/** True when something accepts connections on host:port. */
export function isListening(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitPortFree(port, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await isListening(port))) return true;
    await sleep(500);
  }
  return false;
}

/** Polls `url` until it answers 200 (returns the parsed JSON body) or the child dies or time runs out. */
export async function waitHttp(url, child, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${child.benchName} exited (${child.exitCode ?? child.signalCode}) before answering ${url}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (res.ok) return JSON.parse(text);
      last = `status ${res.status}`;
    } catch (err) {
      last = err.message;
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${last})`);
}

// ---- /proc ----

export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86_64/arm64

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** user+system CPU seconds of one process (threads included), or undefined when it is gone. */
export function cpuSeconds(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}

/** Machine-wide busy and total CPU seconds (all cores) from /proc/stat. */
export function machineCpu() {
  const line = read('/proc/stat').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** Resident and proportional set size in MiB (PSS splits pages shared between gunicorn's master and workers). */
export function memory(pid) {
  const status = read(`/proc/${pid}/status`);
  if (!status) return undefined;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  const rollup = read(`/proc/${pid}/smaps_rollup`);
  const pss = rollup ? Number(/Pss:\s+(\d+)/.exec(rollup)?.[1] ?? NaN) / 1024 : undefined;
  return { rssMiB: round(rss, 1), pssMiB: pss === undefined ? undefined : round(pss, 1) };
}

/** Bytes a process has read through read(2)-like calls (files and sockets alike), from /proc/<pid>/io. */
export function readChars(pid) {
  const io = read(`/proc/${pid}/io`);
  return io ? Number(/rchar:\s+(\d+)/.exec(io)?.[1]) : undefined;
}

export function childPids(pid) {
  const out = [];
  const taskDir = `/proc/${pid}/task`;
  if (!existsSync(taskDir)) return out;
  for (const tid of readdirSync(taskDir)) {
    const text = read(`${taskDir}/${tid}/children`);
    if (text) out.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return [...new Set(out)].sort((a, b) => a - b);
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
export const quietLog = { waitedMs: 0, gaveUp: 0, checks: 0 };

/**
 * Other jobs on this 2-core machine (test suites, installs) distort every number. Before a measurement, wait (at
 * most `maxMs`, and at most BENCH_QUIET_BUDGET_S seconds over the whole run) until the machine's busy CPU,
 * sampled over half a second while our own servers are idle, is below `threshold` cores. Measurements that ran on a
 * busy machine anyway are visible in their "other" CPU column.
 */
export async function waitQuiet(threshold = 0.35, maxMs = 15_000) {
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
