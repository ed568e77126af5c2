// The generated Procfile binds 127.0.0.1:8000, as EB's nginx expects, so everything that starts it takes turns: the
// test files (vitest runs them in parallel processes), `npm run bench`, `npm run reliability`, of any checkout on the
// machine. A second gunicorn on the port would fail or, worse, answer for the first; a reliability run leaves the port
// unbound on purpose while gunicorn is down. A lock directory (mkdir is atomic) in the system's temp folder holds the
// owner's pid; a lock whose owner died is taken over. Within one process the lock is counted, so a run that holds it
// throughout can still start and stop gunicorn (which takes it too) as often as it likes. The test files each get a
// private TMPDIR (test/private-tmpdir.ts), which keeps the machine's in SCI_EB_MACHINE_TMPDIR: the lock lives there,
// where every process on the machine looks for it.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { releaseDirLock, tryDirLock } from './dir-lock.mjs';

export const PROCFILE_PORT = 8000;
const LOCK = path.join(process.env.SCI_EB_MACHINE_TMPDIR ?? os.tmpdir(), 'sci-eb-port-8000.lock');

const isFree = () =>
  new Promise((resolve) => {
    const server = net
      .createServer()
      .once('error', () => resolve(false))
      .listen(PROCFILE_PORT, '127.0.0.1', () => server.close(() => resolve(true)));
  });

let holds = 0;

const unlock = () => releaseDirLock(LOCK);
process.on('exit', () => {
  if (holds > 0) unlock();
});

async function takeLock(timeoutMs, onWait) {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (let owner = tryDirLock(LOCK); owner !== true; owner = tryDirLock(LOCK)) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${LOCK}`);
    if (!told) onWait(owner);
    told = true;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Resolves to a release function once the lock is held and 127.0.0.1:8000 is free. The previous holder's gunicorn
 * may still be shutting down when its lock is released: that is waited out for 30 s, then it is an error naming
 * the port (some other program has it).
 */
export async function acquirePort8000({ timeoutMs = 900_000, onWait = () => {} } = {}) {
  if (holds === 0) {
    await takeLock(timeoutMs, onWait);
    let free = await isFree();
    for (const until = Date.now() + 30_000; !free && Date.now() < until; free = await isFree())
      await new Promise((r) => setTimeout(r, 500));
    if (!free) {
      unlock();
      throw new Error(
        `127.0.0.1:${PROCFILE_PORT} is taken by another program: stop it, the generated Procfile needs that port`,
      );
    }
  }
  holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holds === 0) unlock();
  };
}
