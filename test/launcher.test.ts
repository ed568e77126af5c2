// The `sci-eb` bin: the same generators without a global yo, as root, without a terminal (stdin is not a TTY here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCHER, listFiles, read } from './helpers.js';

// Yeoman logs to stderr; `output` is what a user sees in the terminal.
const sciEb = (cwd: string, ...args: string[]) => {
  const r = spawnSync('node', [LAUNCHER, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { ...r, output: `${r.stdout}${r.stderr}` };
};

describe('sci-eb launcher', () => {
  it('sci-eb app <name> --yes generates the project without a terminal and says what to run next', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bin-'));
    const r = sciEb(cwd, 'app', 'svc', '--yes', '--skip-install', '--estimator', 'gradient_boosting');
    expect(r.status, r.stderr).toBe(0);
    expect(listFiles(path.join(cwd, 'svc'))).toContain('Procfile');
    expect(read(path.join(cwd, 'svc'), 'train.py')).toMatch(/gradient_boosting/);
    expect(r.output).toMatch(/make local/);
    expect(r.output).not.toMatch(/pip install|Train the model/);
    if (process.getuid?.() === 0) expect(readdirSync(cwd)).toEqual(['svc']); // root stays root: no uid drop as with yo
  });

  it('the leftovers of an interrupted run are cleared, and never mistaken for the project', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bin-'));
    // What a run killed while writing leaves: its staging folder beside the target (the target itself never exists).
    mkdirSync(path.join(cwd, '.svc.sci-eb-partial', 'half'), { recursive: true });
    writeFileSync(path.join(cwd, '.svc.sci-eb-partial', 'half', 'application.py'), 'trunc');
    const r = sciEb(cwd, 'app', 'svc', '--yes', '--skip-install');
    expect(r.status, r.output).toBe(0);
    expect(readdirSync(cwd)).toEqual(['svc']);
    expect(read(path.join(cwd, 'svc'), 'application.py')).toMatch(/^application = /m);
  });

  it('bad answers: exit status 2, every problem listed with its option, nothing written', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bin-'));
    const r = sciEb(cwd, 'app', 'svc', '--yes', '--env-name', 'a', '--region', 'moon-1', '--platform', 'windows');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/3 problems; nothing was written/);
    expect(r.stderr).toMatch(/--env-name: .*4 to 40/);
    expect(r.stderr).toMatch(/--region: /);
    expect(r.stderr).toMatch(/--platform: must be one of: al2023, amazon-linux-ami/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('runs the requirements generator: orders a pip freeze in place and reports the move; --check exits 2', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bin-'));
    const freeze = 'joblib==1.1.0\nnumpy==1.21.0\nscikit-learn==1.0\nscipy==1.7.0\nthreadpoolctl==3.0.0\n';
    writeFileSync(path.join(cwd, 'requirements.txt'), freeze);
    const check = sciEb(cwd, 'requirements', '--check');
    expect(check.status).toBe(2);
    expect(read(cwd, 'requirements.txt')).toBe(freeze);
    const r = sciEb(cwd, 'requirements');
    expect(r.status, r.stderr).toBe(0);
    expect(r.output).toMatch(/moved scipy: line 4 -> 3/);
    expect(read(cwd, 'requirements.txt')).toBe('joblib==1.1.0\nnumpy==1.21.0\nscipy==1.7.0\nscikit-learn==1.0\nthreadpoolctl==3.0.0\n');
    const again = sciEb(cwd, 'requirements');
    expect(again.output).toMatch(/already in build order/);
    expect(sciEb(cwd, 'requirements', 'nope.txt').output).toMatch(/nope\.txt does not exist/);
  });

  it('sci-eb gateway adds the gateway to an existing project, and is idempotent', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bin-'));
    expect(sciEb(cwd, 'app', 'svc', '--yes', '--skip-install').status).toBe(0);
    const project = path.join(cwd, 'svc');
    const r = sciEb(project, 'gateway', '--skip-install');
    expect(r.status, r.output).toBe(0);
    expect(listFiles(project)).toContain('gateway/src/app.ts');
    expect(JSON.parse(read(project, '.yo-rc.json'))['generator-sci-eb'].answers.gateway).toBe(true);
    expect(sciEb(project, 'gateway', '--skip-install').output).toMatch(/Up to date/);
  });

  it('--help lists the generators', () => {
    const r = sciEb(os.tmpdir(), '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Generators: app, gateway, requirements, upgrade/);
    expect(existsSync(LAUNCHER)).toBe(true);
  });
});
