// What bench/ and reliability/ both read of the machine and of running processes, from /proc: a process's memory
// and the machine's description written beside every result; and the request rows both send, drawn from a model's
// schema.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function read(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const round1 = (x) => (Number.isNaN(x) ? x : Math.round(x * 10) / 10);

/** Resident and proportional set size in MiB (PSS splits pages shared between gunicorn's master and workers). */
export function memory(pid) {
  const status = read(`/proc/${pid}/status`);
  if (!status) return undefined;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
  const rollup = read(`/proc/${pid}/smaps_rollup`);
  const pss = rollup ? Number(/Pss:\s+(\d+)/.exec(rollup)?.[1] ?? NaN) / 1024 : undefined;
  return { rssMiB: round1(rss), pssMiB: pss === undefined ? undefined : round1(pss) };
}

/** The machine a result was measured on: cores, CPU model, memory, kernel, OpenBLAS settings. */
export function machineInfo() {
  const cpus = os.cpus();
  const meminfo = read('/proc/meminfo') ?? '';
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(meminfo)?.[1] ?? NaN);
  let kernel;
  try {
    kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    kernel = os.release();
  }
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((kb('MemTotal') / 1024 / 1024) * 10) / 10,
    memoryAvailableGiB: Math.round((kb('MemAvailable') / 1024 / 1024) * 10) / 10,
    kernel,
    openblas: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OPENBLAS'))),
  };
}

/** Rows spread over each feature's observed training range; a fixed seed, so every run sends the same bodies. */
export function makeRows(schema, count, seed = 20240611) {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rows = [];
  for (let i = 0; i < count; i++) {
    const row = {};
    for (const f of schema.features) {
      if (f.type === 'category') row[f.name] = f.categories[Math.floor(random() * f.categories.length)];
      else {
        const v = f.observedMin + random() * (f.observedMax - f.observedMin);
        row[f.name] = f.type === 'integer' ? Math.round(v) : Math.round(v * 10) / 10;
      }
    }
    rows.push(row);
  }
  return rows;
}
