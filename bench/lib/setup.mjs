// Everything the benchmark needs, built from the repository by the harness: the generator and the gateway compiled,
// the two projects generated from the reference answers (.yo-rc.json: iris, random forest, 2 workers) and the same
// answers with logistic regression, the shared virtualenv, and both models trained.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCheckout, GATEWAY, prepareProject, ROOT } from '../../harness/index.mjs';

export { GATEWAY, ROOT };
export const BENCH = path.join(ROOT, 'bench');
export const TMP = path.join(BENCH, 'tmp'); // git-ignored
export const LOGS = path.join(TMP, 'logs');

export const PROJECTS = {
  forest: { estimator: 'random_forest', title: 'random forest (100 trees)' },
  logreg: { estimator: 'logistic_regression', title: 'logistic regression' },
};

export function setup(log) {
  log('setup');
  buildCheckout(log);
  const parent = path.join(TMP, 'projects');
  const answers = path.join(ROOT, '.yo-rc.json');
  const projects = {};
  let venv;
  for (const [name, p] of Object.entries(PROJECTS)) {
    // The reference answers; only the estimator changes for the second project.
    const project = prepareProject({
      parent,
      name,
      args: ['--answers', answers, '--estimator', p.estimator],
      log,
      fresh: venv === undefined,
    });
    venv = project.venv;
    const artifactBytes = readFileSync(
      path.join(project.dir, 'model', project.schema.model.artifact ?? 'model.joblib'),
    ).length;
    projects[name] = { ...p, ...project, artifactBytes };
  }
  return { projects, venv };
}

export function machineInfo() {
  const cpus = os.cpus();
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
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
