// The generated Procfile binds 127.0.0.1:8000, as EB's nginx expects, so suites that start it take turns: vitest runs
// test files in parallel processes, and a second gunicorn on the same port would fail (or, worse, answer for the
// first). A lock directory (mkdir is atomic) holds the owner's pid; a lock whose owner died is taken over. It lives in
// the system's temp folder, not the checkout, because the port is the machine's: two checkouts' suites share it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const LOCK = path.join(os.tmpdir(), 'sci-eb-port-8000.lock');

const alive = (pid: number) => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

export async function acquirePort8000(timeoutMs = 900_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      let owner = NaN;
      try { owner = Number(readFileSync(path.join(LOCK, 'pid'), 'utf8')); } catch { /* being written */ }
      if (Number.isFinite(owner) && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${LOCK}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer().once('error', () => resolve(false)).listen(8000, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  if (!free) {
    rmSync(LOCK, { recursive: true, force: true });
    throw new Error('127.0.0.1:8000 is taken by another program: stop it, the generated Procfile needs that port');
  }
  return () => rmSync(LOCK, { recursive: true, force: true });
}
