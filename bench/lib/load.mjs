// The load generator, always a separate process: wrk (C, epoll, microsecond latency histogram) when available,
// else autocannon (bench/lib/autocannon-run.mjs) recording each latency as a float. Closed loop: `connections`
// clients, each sending its next request as soon as the previous answer arrived.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep, start } from '../../harness/index.mjs';
import { cpuSampler } from './measure.mjs';

let tool;

/**
 * Finds wrk, installing it with apt-get when missing (Debian's package) unless `install` is false, else falls back to
 * autocannon.
 */
export function ensureLoadTool(log, { install = true } = {}) {
  if (process.env.BENCH_LOADGEN === 'autocannon') {
    tool = { name: 'autocannon', version: autocannonVersion() };
    return tool;
  }
  const found = () => spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  let probe = found();
  if (probe.error && install && process.getuid?.() === 0) {
    log('wrk not found: apt-get install -y wrk');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let r = spawnSync('apt-get', ['install', '-y', '-q', 'wrk'], { stdio: 'ignore', env, timeout: 180_000 });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore', env, timeout: 180_000 });
      r = spawnSync('apt-get', ['install', '-y', '-q', 'wrk'], { stdio: 'ignore', env, timeout: 180_000 });
    }
    probe = found();
  }
  if (probe.error) {
    log('wrk unavailable; using autocannon');
    tool = { name: 'autocannon', version: autocannonVersion() };
    return tool;
  }
  const version = /wrk (\S+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1] ?? 'unknown';
  tool = { name: 'wrk', version };
  return tool;
}

function autocannonVersion() {
  return JSON.parse(
    readFileSync(new URL('../../gateway/node_modules/autocannon/package.json', import.meta.url), 'utf8'),
  ).version;
}

function luaString(s) {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A wrk script that cycles through `bodies` (pre-formatted once) and prints the summary as one JSON line. */
function wrkScript(bodies) {
  return `local bodies = {${bodies.map(luaString).join(',\n')}}
local reqs = {}
local n = 0
local i = 0
init = function(args)
  for k, b in ipairs(bodies) do
    reqs[k] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, b)
  end
  n = #reqs
end
request = function()
  i = i % n + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latencyUs":{"min":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`;
}

/**
 * One closed-loop run. `watch` maps names to pids whose CPU use is sampled over the middle of the run (from 0.3 s
 * after the start to 0.3 s before the end, so connection set-up and tear-down are left out).
 * Returns { rps, p50Ms, p90Ms, p99Ms, maxMs, requests, errors, cpu }.
 */
export async function runLoad({ url, bodies, connections, seconds, watch = {}, tmpDir, label = 'load' }) {
  mkdirSync(tmpDir, { recursive: true });
  const out = path.join(tmpDir, `${label.replace(/[^\w.-]+/g, '_')}.out`);
  let child;
  if (tool?.name !== 'autocannon') {
    const script = path.join(tmpDir, 'post.lua');
    writeFileSync(script, wrkScript(bodies));
    child = start(
      `wrk ${label}`,
      'wrk',
      ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', '-s', script, url],
      { stdout: out, stderr: `${out}.err` },
    );
  } else {
    const spec = path.join(tmpDir, 'autocannon.json');
    writeFileSync(spec, JSON.stringify({ url, bodies, connections, seconds }));
    child = start(
      `autocannon ${label}`,
      process.execPath,
      [new URL('./autocannon-run.mjs', import.meta.url).pathname, spec],
      { stdout: out, stderr: `${out}.err` },
    );
  }
  const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  let cpu;
  try {
    await sleep(300);
    const sampler = cpuSampler({ loadgen: child.pid, ...watch });
    await sleep(Math.max(200, seconds * 1000 - 600));
    cpu = sampler.done();
    const { code } = await child.exited;
    if (code !== 0)
      throw new Error(`${label}: load generator exited ${code}: ${readFileSync(`${out}.err`, 'utf8').slice(-500)}`);
  } finally {
    clearTimeout(guard);
  }
  const text = readFileSync(out, 'utf8');
  const line = /BENCHJSON (.*)/.exec(text)?.[1];
  if (!line) throw new Error(`${label}: no summary from the load generator: ${text.slice(-500)}`);
  rmSync(out, { force: true });
  rmSync(`${out}.err`, { force: true });
  const s = JSON.parse(line);
  const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
  const ms = (us) => Math.round(us) / 1000;
  return {
    rps: Math.round((s.requests / (s.durationUs / 1e6)) * 10) / 10,
    p50Ms: ms(s.latencyUs.p50),
    p90Ms: ms(s.latencyUs.p90),
    p99Ms: ms(s.latencyUs.p99),
    maxMs: ms(s.latencyUs.max),
    requests: s.requests,
    errors,
    errorKinds: s.errors,
    cpu: cpu.cores,
  };
}

export function loadTool() {
  return tool;
}

// Used by the autocannon path only; kept here so the fallback is tested together with the main path.
export function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function execVersion(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return undefined;
  }
}
