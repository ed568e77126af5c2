// Virtualenvs shared by everything that runs generated projects for real: created once per requirements content and
// reused (under .cache/venvs, keyed by the hash of the requirements files), so the suite pays for `pip install` once,
// the way EB keeps its venv beside the app.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { releaseDirLock, tryDirLock } from './dir-lock.mjs';
import { start, stop } from './procs.mjs';

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
 * runStep without blocking this process, for steps that run side by side: the command is a child of procs.start (its
 * own process group, killed with everything else if this process exits first), its output in files until it ends.
 * Resolves with its stdout; rejects as runStep throws.
 */
export async function runStepAsync(log, title, command, args, { cwd, env, timeout = 900_000 } = {}) {
  const started = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-step-'));
  const files = { stdout: path.join(dir, 'stdout'), stderr: path.join(dir, 'stderr') };
  const read = (file) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  try {
    const child = start(title, command, args, { cwd, env, ...files });
    const timer = setTimeout(() => stop(child, 5000), timeout);
    const { code, signal, error } = await child.exited;
    clearTimeout(timer);
    const [stdout, stderr] = [read(files.stdout), read(files.stderr)];
    if (code !== 0)
      throw new Error(
        `${title} failed (${code ?? signal ?? error?.message}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`,
      );
    log(`  ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether the venv's scripts run from where it is: they name their interpreter by absolute path, so a venv made in
 * another checkout (and reached here through a copy or a link) starts gunicorn with ENOENT. Such a venv is rebuilt.
 */
function belongsHere(dir) {
  const pip = path.join(dir, 'bin', 'pip');
  return existsSync(pip) && readFileSync(pip, 'utf8').startsWith(`#!${path.join(dir, 'bin')}/`);
}

/**
 * `build()` holding `${dir}.lock` (mkdir is atomic), so that two processes needing the same venv at once (the bench
 * and the reliability smoke runs side by side, test files in parallel) never build it over each other: the second
 * waits, then finds it built. A lock whose owner has died is taken over.
 */
function whileLocked(dir, log, build) {
  const lock = `${dir}.lock`;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 30 * 60_000;
  let told = false;
  for (let owner = tryDirLock(lock); owner !== true; owner = tryDirLock(lock)) {
    if (Date.now() > deadline) throw new Error(`waited 30 minutes for ${lock} (pid ${owner})`);
    if (!told) log(`  waiting for ${path.relative(ROOT, dir)}: pid ${owner} is building it`);
    told = true;
    Atomics.wait(pause, 0, 0, 500); // a synchronous sleep: sharedVenv is synchronous
  }
  try {
    return build();
  } finally {
    releaseDirLock(lock);
  }
}

/** A venv with `requirements` (and whatever they include with -r, resolved from their folder) installed. */
export function sharedVenv(kind, requirements, log = stderrLog) {
  const hash = createHash('sha256');
  for (const file of requirements) hash.update(readFileSync(file));
  const dir = path.join(VENVS, `${kind}-${hash.digest('hex').slice(0, 12)}`);
  const stamp = path.join(dir, '.installed');
  const ready = () => existsSync(stamp) && belongsHere(dir);
  if (ready()) return dir;
  mkdirSync(VENVS, { recursive: true });
  return whileLocked(dir, log, () => {
    if (ready()) return dir; // built by whoever held the lock before
    rmSync(dir, { recursive: true, force: true });
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
  });
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
