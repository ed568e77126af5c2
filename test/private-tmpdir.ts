import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

// Every test file gets its own temporary directory, removed when the file ends. The projects, venvs and notebook
// model zoos the tests build weigh up to a gigabyte each; left in /tmp run after run they fill the disk and the next
// CI run dies of ENOSPC. TMPDIR is what node's os.tmpdir(), Python's tempfile and pip all read, and child processes
// inherit it, so everything a test or its subprocesses make lands here. Setup files' afterAll hooks run last (hooks
// unwind as a stack), after the file's own hooks have stopped its servers.
const dir = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-test-'));
// Open like /tmp itself (sticky, world-writable): some tests run the launcher as another user, who needs a temp too.
chmodSync(dir, 0o1777);
process.env.TMPDIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
