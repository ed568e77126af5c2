// The lock of test/port-lock.ts (same directory in the system's temp folder, same pid file), so the e2e suites of
// any checkout wait while this run stops gunicorn and leaves 127.0.0.1:8000 unbound on purpose: a suite that grabbed
// the port then would answer the gateway with another model.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LOCK = path.join(os.tmpdir(), 'sci-eb-port-8000.lock');

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Resolves to a release function once the lock is held (a lock whose owner died is taken over). */
export async function acquirePort8000({ timeoutMs = 900_000, onWait = () => {} } = {}) {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8'));
      } catch {
        /* being written */
      }
      if (Number.isFinite(owner) && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${LOCK}`);
      if (!told) onWait(owner);
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      if (Number(readFileSync(path.join(LOCK, 'pid'), 'utf8')) === process.pid) rmSync(LOCK, { recursive: true, force: true });
    } catch {
      /* already gone */
    }
  };
  process.on('exit', release);
  return release;
}
