// A lock held as a directory (mkdir is atomic) with its owner's pid inside, shared by every process on the machine:
// the venv builds (harness/venv.mjs) and the Procfile's port (harness/port-lock.mjs). Waiting is the caller's, since
// one waits synchronously and the other must not block its event loop.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM'; // alive, someone else's
  }
};

const age = (file) => {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
};

/**
 * Takes `lock` if it is free: true when this process now holds it, else the owner's pid (NaN while the owner has not
 * written it yet). A lock whose owner died, or that never got a pid (its owner gone between mkdir and writing it),
 * is taken over.
 */
export function tryDirLock(lock) {
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch {
      /* being written */
    }
    if (Number.isFinite(owner) ? alive(owner) : age(lock) <= 10_000) return owner;
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Releases `lock` if this process holds it. */
export function releaseDirLock(lock) {
  try {
    if (Number(readFileSync(path.join(lock, 'pid'), 'utf8')) === process.pid)
      rmSync(lock, { recursive: true, force: true });
  } catch {
    /* already gone */
  }
}
