// Virtualenvs shared by everything that runs generated projects for real: created once per requirements content and
// reused (under .cache/venvs, keyed by the hash of the requirements files), so the suite pays for `pip install` once,
// the way EB keeps its venv beside the app.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const VENVS = path.join(ROOT, '.cache', 'venvs');

const stderrLog = (line) => process.stderr.write(`${line}\n`);

/** Runs a command to completion, its output kept for the error; logs what ran and how long it took. */
export function runStep(log, title, command, args, options = {}) {
  const started = Date.now();
  const r = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 900_000,
    ...options,
  });
  if (r.status !== 0)
    throw new Error(
      `${title} failed (${r.status ?? r.signal ?? r.error?.message}):\n${(r.stdout ?? '').slice(-2000)}\n${(r.stderr ?? '').slice(-2000)}`,
    );
  log(`  ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return r.stdout;
}

/**
 * Whether the venv's scripts run from where it is: they name their interpreter by absolute path, so a venv made in
 * another checkout (and reached here through a copy or a link) starts gunicorn with ENOENT. Such a venv is rebuilt.
 */
function belongsHere(dir) {
  const pip = path.join(dir, 'bin', 'pip');
  return existsSync(pip) && readFileSync(pip, 'utf8').startsWith(`#!${path.join(dir, 'bin')}/`);
}

/** A venv with `requirements` (and whatever they include with -r, resolved from their folder) installed. */
export function sharedVenv(kind, requirements, log = stderrLog) {
  const hash = createHash('sha256');
  for (const file of requirements) hash.update(readFileSync(file));
  const dir = path.join(VENVS, `${kind}-${hash.digest('hex').slice(0, 12)}`);
  const stamp = path.join(dir, '.installed');
  if (existsSync(stamp) && belongsHere(dir)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(VENVS, { recursive: true });
  runStep(log, `python3 -m venv ${path.relative(ROOT, dir)}`, 'python3', ['-m', 'venv', dir]);
  for (const file of requirements) {
    runStep(
      log,
      `pip install -r ${path.basename(file)}`,
      path.join(dir, 'bin', 'python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', path.basename(file)],
      { cwd: path.dirname(file) },
    );
  }
  writeFileSync(stamp, new Date().toISOString());
  return dir;
}

/**
 * ruff exactly as the generated projects pin it (templates/pins/dev-al2023.txt), in a venv of its own: what
 * scripts/python-style.mjs formats the templates with and test/python-lint.test.ts checks rendered projects with.
 */
export function pinnedRuff(log = stderrLog) {
  const pin = readFileSync(path.join(ROOT, 'templates', 'pins', 'dev-al2023.txt'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ruff=='));
  if (!pin) throw new Error('templates/pins/dev-al2023.txt pins no ruff');
  const requirements = path.join(ROOT, '.cache', 'ruff-requirements.txt');
  mkdirSync(path.dirname(requirements), { recursive: true });
  if (!existsSync(requirements) || readFileSync(requirements, 'utf8') !== `${pin}\n`)
    writeFileSync(requirements, `${pin}\n`);
  return path.join(sharedVenv('ruff', [requirements], log), 'bin', 'ruff');
}
