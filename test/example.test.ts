// `npm run example`, the README's first command, for real: a few readable lines per step, the bundle's size, the
// prediction, then a clean stop with the final message last.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { acquirePort8000 } from '../harness/index.mjs';

describe('npm run example', () => {
  it('reads as a few lines per step and stops cleanly', async () => {
    const release = await acquirePort8000();
    let out = '';
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve) => {
        const child = spawn('node', [path.join(ROOT, 'scripts', 'example.mjs')], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          out += d;
        });
        child.once('close', resolve);
      });
    } finally {
      release();
    }
    expect(code, out).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines.length, out).toBeLessThan(35); // was ~18,500 (awsebcli's INFO: -skipping lines alone)
    expect(out).not.toMatch(/INFO|skipping|Terminated|\*\*\*|Traceback|Shutting down|Handling signal/);
    expect(out).toMatch(/^ {3}held-out score on \d+ rows/m);
    expect(out).toMatch(
      /^ {3}bundle: \.elasticbeanstalk\/app_versions\/app-\S+\.zip, \d+ files, [\d.]+ [KM]B \([\d.]+ [KM]B unpacked\)$/m,
    );
    expect(out).toMatch(/^ {3}gunicorn listening on http:\/\/127\.0\.0\.1:8000/m);
    expect(out).toMatch(/-> {2}"setosa" {2}\(p=/);
    // the final message is the last thing printed: gunicorn shut down gracefully (into the log) before it
    expect(lines.at(-1)).toMatch(/^Stopped the service\. The project is in example\/iris-service; /);
    const log = readFileSync(path.join(ROOT, 'example', 'logs', 'local.log'), 'utf8');
    expect(log).toMatch(/Shutting down: Master/);
    expect(log).not.toMatch(/Terminated/);
    // the generator's install left what make considers installed: `make venv` has nothing to do
    expect(spawnSync('make', ['-q', 'venv'], { cwd: path.join(ROOT, 'example', 'iris-service') }).status).toBe(0);
  }, 1_800_000);
});
