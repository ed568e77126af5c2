import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

// Every test file gets its own temporary directory, removed when the file ends. The projects, venvs and notebook
// model zoos the tests build weigh up to a gigabyte each; left in /tmp run after run they fill the disk and the next
// CI run dies of ENOSPC. TMPDIR is what node's os.tmpdir(), Python's tempfile and pip all read, and child processes
// inherit it, so everything a test or its subprocesses make lands here. Setup files' afterAll hooks run last (hooks
// unwind as a stack), after the file's own hooks have stopped its servers.
// What is the machine's, not the file's (the port-8000 lock, harness/port-lock.mjs), stays in the machine's temp folder.
process.env.SCI_EB_MACHINE_TMPDIR ??= os.tmpdir();
const machine = process.env.SCI_EB_MACHINE_TMPDIR;
const dir = mkdtempSync(path.join(machine, 'sci-eb-test-'));
// Open like /tmp itself (sticky, world-writable): some tests run the launcher as another user, who needs a temp too.
chmodSync(dir, 0o1777);
process.env.TMPDIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
