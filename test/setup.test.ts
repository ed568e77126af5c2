// The README's two set-up commands: neither reinstalls what the other installed, and both say exactly which
// program is missing before anything runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
// @ts-expect-error: a plain ESM script, no type declarations
import { matchesLockfile, missingPrograms } from '../scripts/setup.mjs';

const SETUP = path.join(ROOT, 'scripts', 'setup.mjs');

function fakePackage(lock: Record<string, unknown>, installed?: Record<string, unknown>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-setup-'));
  writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify({ lockfileVersion: 3, packages: { '': {}, ...lock } }),
  );
  if (installed) {
    mkdirSync(path.join(dir, 'node_modules'));
    writeFileSync(
      path.join(dir, 'node_modules', '.package-lock.json'),
      JSON.stringify({ lockfileVersion: 3, packages: installed }),
    );
  }
  return dir;
}

describe('set-up', () => {
  it('installs only when node_modules does not hold what the lockfile pins', () => {
    const lock = {
      'node_modules/a': { version: '1.0.0' },
      'node_modules/b': { version: '2.0.0' },
      'node_modules/@x/darwin': { version: '1.0.0', optional: true },
    };
    expect(matchesLockfile(fakePackage(lock))).toBe(false); // fresh clone
    expect(
      matchesLockfile(
        fakePackage(lock, { 'node_modules/a': { version: '1.0.0' }, 'node_modules/b': { version: '2.0.0' } }),
      ),
    ).toBe(true);
    expect(matchesLockfile(fakePackage(lock, { 'node_modules/a': { version: '1.0.0' } }))).toBe(false); // one missing
    expect(
      matchesLockfile(
        fakePackage(lock, { 'node_modules/a': { version: '1.0.1' }, 'node_modules/b': { version: '2.0.0' } }),
      ),
    ).toBe(false); // lockfile changed
    // this checkout, as `npm ci` left it (the suite is running from it)
    expect(matchesLockfile(ROOT)).toBe(true);
    expect(matchesLockfile(path.join(ROOT, 'gateway'))).toBe(true);
  });

  it('a second set-up command right after the first installs nothing', () => {
    const r = spawnSync('node', [SETUP, 'test'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/npm .*ci/);
  });

  it('names each missing program, why it is needed and how to install it, and stops', () => {
    const none = missingPrograms('test', { has: () => false, exists: () => false }).map(
      (m: { name: string; install: string }) => `${m.name}: ${m.install}`,
    );
    expect(none).toEqual([
      'make: sudo apt-get install -y make',
      'python3 (3.11 or newer, with venv): sudo apt-get install -y python3 python3-venv',
      'redis-server: sudo apt-get install -y redis-server',
      'chromium (/usr/bin/chromium): sudo apt-get install -y chromium',
    ]);
    expect(missingPrograms('example', { has: () => false, exists: () => false })).toHaveLength(2); // the example needs no redis or browser
    // For real: a PATH with node, python3 and make but no redis-server
    const bin = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-path-'));
    for (const tool of ['node', 'python3', 'make', 'npm']) {
      // python3 may be a pyenv shim that needs pyenv on PATH: link the interpreter itself
      const found =
        tool === 'python3'
          ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
          : spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found) symlinkSync(found, path.join(bin, tool));
    }
    const r = spawnSync(path.join(bin, 'node'), [SETUP, 'test'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: bin },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^npm test needs (a program|programs) this machine does not have:\n[\s\S]* {2}redis-server +the gateway's shared rate-limit store.*\n +install: sudo apt-get install -y redis-server\n/,
    );
    expect(r.stderr).toMatch(/then run npm test again/);
  });
});
