// The generated Procfile binds 127.0.0.1:8000, as EB's nginx expects, so suites that start it take turns: vitest runs
// test files in parallel processes, and a second gunicorn on the same port would fail (or, worse, answer for the
// first). A lock directory (mkdir is atomic) holds the owner's pid; a lock whose owner died is taken over. It lives in
// the system's temp folder, not the checkout, because the port is the machine's: two checkouts' suites share it.
import net from 'node:net';
// One lock for every program that runs the Procfile's gunicorn (tests, npm run reliability, bench/recovery.mjs).
import { acquirePort8000 as acquireLock } from '../reliability/lib/port-lock.mjs';

export async function acquirePort8000(timeoutMs = 900_000): Promise<() => void> {
  const release: () => void = await acquireLock({ timeoutMs });
  const isFree = () => new Promise<boolean>((resolve) => {
    const server = net.createServer().once('error', () => resolve(false)).listen(8000, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  // The previous holder's gunicorn may still be shutting down when its lock is released: give it a moment.
  let free = await isFree();
  for (const until = Date.now() + 30_000; !free && Date.now() < until; free = await isFree()) await new Promise((r) => setTimeout(r, 500));
  if (!free) {
    release();
    throw new Error('127.0.0.1:8000 is taken by another program: stop it, the generated Procfile needs that port');
  }
  return release;
}
