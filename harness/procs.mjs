// Child processes for the tests, the benchmark and the reliability run. Every child is started in its own process
// group (detached), registered here, and killed (the whole group: gunicorn's workers too) when this process exits,
// fails or is interrupted. Nothing is ever killed by name.
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

// Whoever starts a child gets this much for free: nothing outlives the process that started it.
process.on('exit', killAll);

let handlersInstalled = false;
/**
 * For programs run from the command line (bench, reliability): Ctrl-C, SIGTERM and any uncaught error stop every
 * child first. Test runners have handlers of their own, so the tests rely on the exit hook above only.
 */
export function installExitHandlers(name) {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\n${name}: ${signal}, stopping children\n`);
      killAll();
      process.exit(130);
    });
  }
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    process.on(event, (err) => {
      process.stderr.write(`${name}: ${err?.stack ?? err}\n`);
      killAll();
      process.exit(1);
    });
  }
}

/**
 * Starts `command args` detached (its own process group). stdout/stderr go to files (or /dev/null) so that no pipe
 * has to be drained by this process, whose CPU time would otherwise compete with what is measured.
 */
export function start(name, command, args, { cwd, env, stdout = '/dev/null', stderr = '/dev/null' } = {}) {
  const out = openSync(stdout, 'w');
  const err = openSync(stderr, 'w');
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  child.label = name;
  live.add(child);
  // A command that cannot be spawned emits 'error' and never 'exit': it has exited all the same.
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  }).then((result) => {
    live.delete(child);
    return result;
  });
  return child;
}

/** SIGTERM to the group, then SIGKILL after `graceMs`. Resolves when the leader has exited. */
export async function stop(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
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
    if (child && (child.exitCode !== null || child.signalCode !== null || !child.pid))
      throw new Error(`${child.label} exited (${child.exitCode ?? child.signalCode}) before answering ${url}`);
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

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86_64/arm64

/** user+system CPU seconds of one process (threads included), or undefined when it is gone. */
export function cpuSeconds(pid) {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
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
