// `yo sci-eb` run by yeoman-test in a folder of our own (yeoman-test removes its temporary folders between runs, and
// re-runs need ours), with --yes unless the options say otherwise.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helpers from 'yeoman-test';
import type AppGenerator from '../src/app/index.js';
import { APP } from './helpers.js';

export async function generate(options: Record<string, unknown>, name = 'demo', prepare?: (dir: string) => void) {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gen-'));
  prepare?.(cwd);
  const result = await helpers
    .run<AppGenerator>(APP)
    .cd(cwd)
    .withArguments([name])
    .withOptions({ yes: true, ...options });
  return { result, dir: path.join(cwd, name) };
}
