// Virtualenvs shared by the tests that run generated projects for real: created once per requirements content and
// reused, so the suite pays for `pip install` once (CI's budget), the way EB keeps its venv beside the app.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers.js';

export const CACHE = path.join(ROOT, '.cache');

/** A venv with `requirements` (and whatever it includes with -r, resolved from its folder) installed. */
export function sharedVenv(kind: string, requirements: string[]): string {
  const hash = createHash('sha256');
  for (const file of requirements) hash.update(readFileSync(file));
  const dir = path.join(CACHE, 'venvs', `${kind}-${hash.digest('hex').slice(0, 12)}`);
  const stamp = path.join(dir, '.installed');
  if (existsSync(stamp)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  execFileSync('python3', ['-m', 'venv', dir], { stdio: 'inherit' });
  for (const file of requirements) {
    execFileSync(path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', path.basename(file)], {
      cwd: path.dirname(file), stdio: 'inherit', timeout: 900_000,
    });
  }
  writeFileSync(stamp, new Date().toISOString());
  return dir;
}
