// node --cpu-prof summaries: where the gateway's CPU time goes, by package, caller and function.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

function bucket(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/.*$/, '');
  const dist = /gateway\/dist\/(.+)$/.exec(url);
  if (dist) return `gateway ${dist[1]}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time by package (node_modules/<pkg>), node internals by module, the gateway by file, from a .cpuprofile.
 * Only samples between `fromUs` and `toUs` (CLOCK_MONOTONIC microseconds, the clock of both V8's profile and
 * process.hrtime) count, so start-up (module loading, compiling) and shutdown are left out.
 */
export function summariseCpuProfile(dir, fromUs = 0, toUs = Infinity) {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  const fnUs = new Map();
  const inclusiveUs = new Map();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < fromUs || at > toUs) return;
    const { url, functionName } = node.callFrame;
    if (functionName === '(idle)') return;
    total += dt;
    const key = bucket(url, functionName);
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    const fn = `${functionName || '(anonymous)'} ${key}`;
    fnUs.set(fn, (fnUs.get(fn) ?? 0) + dt);
    // By caller: the sample goes to the nearest frame on its stack that is a package or a gateway file, so time
    // spent in Node's internals (socket writes, streams, events) is charged to the code that asked for it.
    let owner = key;
    for (let cur = id, depth = 0; cur !== undefined && depth < 500; cur = parent.get(cur), depth++) {
      const frame = byId.get(cur).callFrame;
      if (!frame.url) continue;
      const k = bucket(frame.url, frame.functionName);
      if (k.startsWith('node:')) continue;
      owner = k;
      break;
    }
    inclusiveUs.set(owner, (inclusiveUs.get(owner) ?? 0) + dt);
  });
  rmSync(dir, { recursive: true, force: true });
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, percent: Math.round((us / total) * 1000) / 10 }));
  return {
    busyMs: Math.round(total / 1000),
    byPackage: top(selfUs, 14),
    byCaller: top(inclusiveUs, 16),
    byFunction: top(fnUs, 15),
  };
}
