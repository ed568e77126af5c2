// Everything the benchmark needs, built from the repository: the generator and the gateway compiled, the two
// projects generated from the reference answers (.yo-rc.json: iris, random forest, 2 workers) and the same answers
// with logistic regression, one shared virtualenv (the same cache and key as test/venv.ts), and both models trained.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BENCH = path.join(ROOT, 'bench');
export const TMP = path.join(BENCH, 'tmp'); // git-ignored
export const GATEWAY = path.join(ROOT, 'gateway');

function run(log, title, command, args, options = {}) {
  const started = Date.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 900_000, ...options });
  if (r.status !== 0) throw new Error(`${title} failed (${r.status ?? r.signal}):\n${(r.stdout ?? '').slice(-2000)}\n${(r.stderr ?? '').slice(-2000)}`);
  log(`  ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return r.stdout;
}

/** test/venv.ts's sharedVenv, in plain JS: one venv per requirements content, cached under .cache/venvs. */
export function sharedVenv(log, kind, requirements) {
  const hash = createHash('sha256');
  for (const file of requirements) hash.update(readFileSync(file));
  const dir = path.join(ROOT, '.cache', 'venvs', `${kind}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(path.join(dir, '.installed'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  run(log, `python3 -m venv ${path.relative(ROOT, dir)}`, 'python3', ['-m', 'venv', dir]);
  for (const file of requirements) {
    run(log, `pip install -r ${path.basename(file)}`, path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', path.basename(file)], { cwd: path.dirname(file) });
  }
  writeFileSync(path.join(dir, '.installed'), new Date().toISOString());
  return dir;
}

export const PROJECTS = {
  forest: { estimator: 'random_forest', title: 'random forest (100 trees)' },
  logreg: { estimator: 'logistic_regression', title: 'logistic regression' },
};

export function setup(log) {
  log('setup');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (!existsSync(path.join(ROOT, 'node_modules', '.package-lock.json'))) run(log, 'npm ci', npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT });
  run(log, 'npm run build', npm, ['run', 'build'], { cwd: ROOT });
  if (!existsSync(path.join(GATEWAY, 'node_modules', '.package-lock.json'))) run(log, 'gateway: npm ci', npm, ['ci', '--no-audit', '--no-fund'], { cwd: GATEWAY });
  run(log, 'gateway: npm run build', npm, ['run', 'build'], { cwd: GATEWAY });

  const projectsDir = path.join(TMP, 'projects');
  rmSync(projectsDir, { recursive: true, force: true });
  mkdirSync(projectsDir, { recursive: true });
  const answers = path.join(ROOT, '.yo-rc.json');
  const projects = {};
  let venv;
  for (const [name, p] of Object.entries(PROJECTS)) {
    // The reference answers; only the estimator changes for the second project. --skip-install: the venv is shared.
    run(log, `generate ${name} (${p.estimator})`, process.execPath, [path.join(ROOT, 'bin', 'sci-eb.js'), 'app', name, '--answers', answers, '--estimator', p.estimator, '--skip-install'], { cwd: projectsDir });
    const dir = path.join(projectsDir, name);
    venv ??= sharedVenv(log, 'app', [path.join(dir, 'requirements-dev.txt')]);
    run(log, `make train (${name})`, 'make', ['--no-print-directory', `VENV=${venv}`, 'train'], { cwd: dir });
    const procfile = readFileSync(path.join(dir, 'Procfile'), 'utf8');
    const web = /^web:\s*(.+)$/m.exec(procfile)?.[1]?.trim();
    if (!web) throw new Error(`${name}: no web: line in Procfile`);
    const schemaPath = path.join(dir, 'model', 'schema.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
    const workers = Number(/--workers\s+(\d+)/.exec(web)?.[1] ?? 1);
    const port = Number(/--bind\s+[\d.]+:(\d+)/.exec(web)?.[1] ?? 8000);
    projects[name] = { ...p, name, dir, web, workers, port, schemaPath, schema, artifactBytes: readFileSync(path.join(dir, 'model', schema.model.artifact ?? 'model.joblib')).length };
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
