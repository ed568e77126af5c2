import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const GENERATORS = path.join(ROOT, 'generators');
export const APP = path.join(GENERATORS, 'app');
export { LAUNCHER } from '../harness/index.mjs';
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');

/** Every file below dir (relative paths, sorted), skipping virtualenvs and caches. */
export function listFiles(dir: string, skip = /^(\.venv|__pycache__|\.pytest_cache|node_modules)$/): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (skip.test(entry.name)) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** path -> content and mtime, to prove a second run touched nothing. */
export function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    listFiles(dir).map((f) => [f, `${statSync(path.join(dir, f)).mtimeMs}:${readFileSync(path.join(dir, f), 'utf8')}`]),
  );
}

export const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8');

/** path -> content: what a user would diff. */
export function contents(dir: string): Record<string, string> {
  return Object.fromEntries(listFiles(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
}

/** The files of a source bundle as EB unpacks it (no "./", no folders), read by Python's own zipfile. */
export function bundleFiles(zip: string): string[] {
  const script = 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))';
  return execFileSync('python3', ['-c', script, zip], { encoding: 'utf8' })
    .split('\n')
    .map((n) => n.replace(/^\.\//, ''))
    .filter((n) => n && !n.endsWith('/'));
}

/**
 * What the review planted in both projects: credentials and state files of every common kind, which a deny-list
 * .ebignore shipped because none of its patterns named them. `plantSecrets(dir)` writes them all under dir.
 */
export const PLANTED_SECRETS = [
  '.netrc',
  '.npmrc',
  'id_rsa',
  'credentials.json',
  'secrets.json',
  'config/prod.env',
  'terraform.tfstate',
  '.ruff_cache/0.9.0/cache',
  'notes.ipynb',
];
export function plantSecrets(dir: string): void {
  for (const file of PLANTED_SECRETS) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), 'planted: must never ship\n');
  }
}

/** Every file of the bundle is one the allow-list lets in (`allowed`), and none of the planted secrets is there. */
export function expectOnlyAllowed(zip: string, allowed: RegExp): void {
  const names = bundleFiles(zip);
  expect(names.filter((n) => !allowed.test(n))).toEqual([]);
  for (const file of PLANTED_SECRETS) expect(names, file).not.toContain(file);
}

/** The bundle holds every `needed` file and nothing a `banned` pattern matches. */
export function expectBundle(zip: string, needed: string[], banned: RegExp[]): void {
  const names = bundleFiles(zip);
  for (const file of needed) expect(names, file).toContain(file);
  for (const pattern of banned)
    expect(
      names.filter((n) => pattern.test(n)),
      String(pattern),
    ).toEqual([]);
}
