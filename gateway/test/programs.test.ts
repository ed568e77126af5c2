// What the tests need besides Node, as a user without it meets it: the Redis tests, run where redis-server is not
// installed, fail with the whole install hint and nothing after it (their clean-up once crashed on the client they
// never made, and that TypeError was the last thing on the screen).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REDIS_SERVER_HINT, findOnPath } from './helpers/programs.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('programs the tests start', () => {
  it('without redis-server, the Redis tests fail with the whole install hint and no crash after it', () => {
    // A PATH with node and nothing else: no redis-server on it
    const bin = mkdtempSync(join(tmpdir(), 'gateway-no-redis-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    expect(findOnPath('redis-server', bin)).toBeUndefined();
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const run = spawnSync(process.execPath, [vitest, 'run', 'test/ratelimit.test.ts'], {
      cwd: ROOT,
      env: { ...process.env, PATH: bin, NO_COLOR: '1', FORCE_COLOR: '0' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    rmSync(bin, { recursive: true, force: true });
    const output = `${run.stdout}${run.stderr}`;
    expect(run.status, output).toBe(1);
    expect(output).toContain(`Error: ${REDIS_SERVER_HINT}`);
    expect(output).not.toMatch(/TypeError|Cannot read properties/);
    // One failure, the missing program; the in-memory rate-limit tests still pass
    expect(output).toMatch(/Failed Suites 1\b/);
    expect(output).toMatch(/Tests +4 passed \| 2 skipped/);
  }, 120_000);
});
