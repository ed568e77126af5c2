// The lock directory that venv builds and the Procfile's port take turns with, across processes and checkouts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { releaseDirLock, tryDirLock } from '../harness/index.mjs';

const fresh = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'sci-eb-lock-')), 'x.lock');
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('tryDirLock', () => {
  it('takes a free lock, then names its living owner to everyone else until it is released', () => {
    const lock = fresh();
    expect(tryDirLock(lock)).toBe(true);
    expect(readFileSync(path.join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
    expect(tryDirLock(lock)).toBe(process.pid);
    releaseDirLock(lock);
    expect(existsSync(lock)).toBe(false);
    expect(tryDirLock(lock)).toBe(true);
  });

  it("takes over a lock whose owner died, and leaves another process's lock alone on release", () => {
    const lock = fresh();
    mkdirSync(lock);
    writeFileSync(path.join(lock, 'pid'), String(deadPid()));
    expect(tryDirLock(lock)).toBe(true);
    writeFileSync(path.join(lock, 'pid'), String(process.ppid));
    releaseDirLock(lock);
    expect(existsSync(lock)).toBe(true);
  });

  it('waits for a pid being written, and takes over one never written within 10 s', () => {
    const lock = fresh();
    mkdirSync(lock);
    expect(tryDirLock(lock)).toBeNaN();
    const past = (Date.now() - 11_000) / 1000;
    utimesSync(lock, past, past);
    expect(tryDirLock(lock)).toBe(true);
  });
});
