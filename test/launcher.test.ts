// The `sci-eb` bin: the same generators without a global yo, as root, without a terminal (stdin is not a TTY here).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCHER, ROOT, listFiles, read } from './helpers.js';

/** The folders above `dir`, up to the root. */
const ancestors = (dir: string): string[] =>
  path.dirname(dir) === dir ? [] : [path.dirname(dir), ...ancestors(path.dirname(dir))];

// Yeoman logs to stderr; `output` is what a user sees in the terminal.
const sciEb = (cwd: string, ...args: string[]) => sciEbWith({}, cwd, ...args);
function sciEbWith(extra: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number }, cwd: string, ...args: string[]) {
  const r = spawnSync('node', [LAUNCHER, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    ...extra,
    env: { ...process.env, ...extra.env },
  });
  return { ...r, output: `${r.stdout}${r.stderr}` };
}
const tmp = (prefix = 'sci-eb-bin-') => mkdtempSync(path.join(os.tmpdir(), prefix));
// Yeoman's own wording for a failed task, which names an internal method
const YEOMAN_TASK_ERROR = /error occured|error occurred|#prompting|#writing/i;

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

  it('a failed install step keeps the project and names the make targets left to run', () => {
    const cwd = tmp();
    // make venv fails at once with an interpreter that exits 1 (PYTHON is the Makefile's to override).
    const r = sciEbWith({ env: { PYTHON: '/bin/false' } }, cwd, 'app', 'svc', '--yes', '--gateway');
    expect(r.status).toBe(2); // make's
    expect(r.stderr).toMatch(
      /Create \.venv and install requirements-dev\.txt failed \(exit 2\); its reason is above\. The project is written in svc: fix what it says there, then run: cd svc && make venv && make train && make gateway$/m,
    );
    expect(r.stderr).not.toMatch(/Command failed|\n\s+at /);
    expect(listFiles(path.join(cwd, 'svc'))).toContain('train.py');
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
    expect(r.stderr).toMatch(
      /--platform: windows is not a platform this generator knows: use one of al2023, amazon-linux-ami/,
    );
    expect(r.output).not.toMatch(YEOMAN_TASK_ERROR);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("every generator's --help lists its options with defaults and meanings, exits 0 and writes nothing anywhere", () => {
    const cwd = tmp();
    const home = tmp('sci-eb-home-');
    const help = (...args: string[]) => {
      const r = sciEbWith({ env: { HOME: home } }, cwd, ...args);
      expect(r.status, r.output).toBe(0);
      expect(r.stderr, args.join(' ')).toBe('');
      return r.stdout;
    };
    const app = help('app', '--help');
    expect(app).toMatch(/^Usage: sci-eb app \[name\] \[options\]/);
    expect(app).toMatch(/--estimator <value> +scikit-learn estimator: .*\(default: random_forest\)/);
    expect(app).toMatch(/--workers <value> +gunicorn worker processes per instance \(default: 2\)/);
    expect(app).toMatch(/--region <value> +.*\(default: us-east-1\)/);
    expect(app).toMatch(/-y, --yes/);
    expect(app).toMatch(/--skip-install +Write the project only/);
    expect(app).not.toMatch(/skip-cache|force-install|ask-answered/); // Yeoman's, meaningless here
    expect(help('app', 'my-svc', '--yes', '-h')).toBe(app); // --help wins over everything else on the line
    // Each generator lists its own options, and only those: the gateway is an upgrade inside, not on its help.
    const optionsOf = (text: string) => [...text.matchAll(/^ {2}(?:-\w, )? *(--[\w<>-]+)/gm)].map((m) => m[1]).sort();
    const gateway = help('gateway', '--help');
    expect(gateway).toMatch(/Usage: sci-eb gateway \[options\][\s\S]*--skip-install +Write the files only/);
    expect(optionsOf(gateway)).toEqual(['--dry-run', '--help', '--skip-install', '--yes']);
    const upgrade = help('upgrade', '--help');
    expect(upgrade).toMatch(/Usage: sci-eb upgrade \[options\][\s\S]*--check[\s\S]*--set <value>/);
    expect(optionsOf(upgrade)).toEqual(['--<answer>', '--adopt', '--check', '--dry-run', '--help', '--set', '--yes']);
    const requirements = help('requirements', '--help');
    expect(requirements).toMatch(
      /\[file\][\s\S]*file +The requirements file to order \(default: requirements.txt\)[\s\S]*--check/,
    );
    expect(optionsOf(requirements)).toEqual(['--check', '--help', '--yes']);
    // --yes on a generator that asks nothing is accepted, and its help says it means nothing there
    for (const text of [gateway, upgrade, requirements])
      expect(text).toMatch(/-y, --yes +Accepted for scripts .*asks no questions/);
    const top = help('--help');
    for (const g of ['app', 'gateway', 'requirements', 'upgrade']) expect(top).toMatch(new RegExp(`^  ${g} +\\S`, 'm'));
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
  });

  it('unknown options are refused with the nearest known one: exit 2, nothing written', () => {
    const cwd = tmp();
    const r = sciEb(cwd, 'app', 'x-svc', '--yes', '--estimatr', 'ridge');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--estimatr: not an option of sci-eb app \(did you mean --estimator\?\)/);
    expect(r.stderr).toMatch(/sci-eb app --help/);
    expect(r.output).not.toMatch(YEOMAN_TASK_ERROR);
    expect(readdirSync(cwd)).toEqual([]);
    const flags = sciEb(cwd, 'app', 'x-svc', '--yes', '--skip-instal', '-q');
    expect(flags.status).toBe(2);
    expect(flags.stderr).toMatch(/--skip-instal: .*did you mean --skip-install\?/);
    expect(flags.stderr).toMatch(/-q: not an option/);
    expect(sciEb(cwd, 'upgrade', '--dryrun').stderr).toMatch(/did you mean --dry-run\?/);
    expect(sciEb(cwd, 'requirements', '--chek').stderr).toMatch(/did you mean --check\?/);
    const typo = sciEb(cwd, 'upgrad');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/no generator "upgrad" \(did you mean sci-eb upgrade\?\)/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a user error shows our message and the exit status only', () => {
    const cwd = tmp();
    const r = sciEb(cwd, 'app', 'a', '--yes', '--workers', '0');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'sci-eb: The answers have 2 problems; nothing was written. Fix:\n' +
        '  --name: must be 2 to 40 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen\n' +
        '  --workers: must be a whole number from 1 to 32\n',
    );
    expect(r.stdout).toBe('');
    const outside = sciEb(cwd, 'upgrade');
    expect(outside.status).toBe(2);
    expect(outside.output).not.toMatch(YEOMAN_TASK_ERROR);
  });

  it("as yo runs it after dropping root (uid 1000, root's home unreadable): a message that says so, exit 2", () => {
    const cwd = tmp();
    const home = tmp('sci-eb-home-');
    const asRoot = process.getuid?.() === 0;
    // As root, yo switches to uid 1000 and keeps HOME=/root (mode 700); as anyone else, a home without permissions
    chmodSync(home, asRoot ? 0o700 : 0o000);
    if (asRoot) chownSync(cwd, 1000, 1000);
    // A global yo install is readable by everyone; this checkout may sit in a folder only root can enter (a CI
    // clone in a 0700 mktemp folder): let uid 1000 pass through the folders above it for the run, as it would there.
    const closed = asRoot ? ancestors(ROOT).filter((dir) => (statSync(dir).mode & 0o001) === 0) : [];
    for (const dir of closed) chmodSync(dir, statSync(dir).mode | 0o001);
    let r: ReturnType<typeof sciEbWith>;
    try {
      r = sciEbWith(
        { env: { HOME: home }, ...(asRoot ? { uid: 1000, gid: 1000 } : {}) },
        cwd,
        'app',
        'svc',
        '--yes',
        '--skip-install',
      );
    } finally {
      for (const dir of closed) chmodSync(dir, statSync(dir).mode & ~0o001);
      chmodSync(home, 0o700);
    }
    expect(r.status, r.output).toBe(2);
    expect(r.stderr).toMatch(
      /cannot read its home folder .*yo, run as root, switches to uid 1000.*run the same generator with sci-eb/,
    );
    expect(r.output).not.toMatch(/TypeError|EACCES/);
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
    expect(read(cwd, 'requirements.txt')).toBe(
      'joblib==1.1.0\nnumpy==1.21.0\nscipy==1.7.0\nscikit-learn==1.0\nthreadpoolctl==3.0.0\n',
    );
    const again = sciEb(cwd, 'requirements');
    expect(again.output).toMatch(/already in build order/);
    expect(sciEb(cwd, 'requirements', 'nope.txt').output).toMatch(/nope\.txt does not exist/);
  });

  it('sci-eb gateway adds the gateway to an existing project, and is idempotent', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bin-'));
    expect(sciEb(cwd, 'app', 'svc', '--yes', '--skip-install').status).toBe(0);
    const project = path.join(cwd, 'svc');
    const before = { readme: read(project, 'README.md'), makefile: read(project, 'Makefile') };
    const r = sciEb(project, 'gateway', '--skip-install');
    expect(r.status, r.output).toBe(0);
    expect(listFiles(project)).toEqual(expect.arrayContaining(['gateway/src/app.ts', 'gateway.mk', 'docs/gateway.md']));
    expect(JSON.parse(read(project, '.yo-rc.json'))['generator-sci-eb'].answers.gateway).toBe(true);
    // The gateway's pieces are files of its own: the README (the user's) and the Makefile stay byte for byte.
    expect(read(project, 'README.md')).toBe(before.readme);
    expect(read(project, 'Makefile')).toBe(before.makefile);
    expect(r.output).not.toMatch(/\s(README\.md|Makefile)$/m); // nothing said about them either (gateway/README.md is new)
    const test = spawnSync('make', ['-n', '--no-print-directory', 'gateway-test'], { cwd: project, encoding: 'utf8' });
    expect(test.status, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/^cd gateway && npm test$/m);
    expect(spawnSync('make', ['help'], { cwd: project, encoding: 'utf8' }).stdout).toMatch(/^make gateway-serve /m);
    expect(r.output).toMatch(
      /Next:\n {2}make train gateway .*\n {2}make serve .*\n {2}make gateway-serve .*:3000.*\n(.*\n)* {2}docs\/gateway\.md /,
    );
    const again = sciEb(project, 'gateway', '--skip-install');
    expect(again.output).toMatch(/Up to date/);
  });

  it('upgrade --set runtime=onnx rewrites docs/runtime.md for onnx and leaves the README as it is', () => {
    const cwd = tmp();
    expect(sciEb(cwd, 'app', 'svc', '--yes', '--skip-install').status).toBe(0);
    const project = path.join(cwd, 'svc');
    const readme = read(project, 'README.md');
    expect(read(project, 'docs/runtime.md')).toMatch(/^# The runtime: sklearn/m);
    expect(readme).toMatch(/\[docs\/runtime\.md\]\(docs\/runtime\.md\)/);
    const r = sciEb(project, 'upgrade', '--set', 'runtime=onnx');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/update +docs\/runtime\.md/);
    const runtime = read(project, 'docs/runtime.md');
    expect(runtime).toMatch(/^# The runtime: onnx \(onnxruntime predicts\)/m);
    expect(runtime).toMatch(/`requirements\.txt` holds only onnxruntime/);
    expect(runtime).toMatch(/--set runtime=sklearn/);
    expect(runtime).not.toMatch(/pandas DataFrame/);
    expect(read(project, 'README.md')).toBe(readme);
  });

  it("after sci-eb app --gateway, the next steps name the gateway's commands", () => {
    const cwd = tmp();
    const r = sciEb(cwd, 'app', 'svc', '--yes', '--skip-install', '--gateway');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/make venv train gateway/);
    expect(r.output).toMatch(/make gateway-serve .*:3000/);
  });
});

describe('sci-eb: what a newcomer trips over', () => {
  it('a CSV given is the CSV trained on: --csv and --target without --dataset mean --dataset csv', () => {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'churn.csv'), 'tenure,plan,churned\n1,basic,no\n30,pro,yes\n');
    const r = sciEb(cwd, 'app', 'm5', '--csv', 'churn.csv', '--target', 'churned', '--skip-install');
    expect(r.status, r.output).toBe(0);
    const project = path.join(cwd, 'm5');
    expect(JSON.parse(read(project, '.yo-rc.json'))['generator-sci-eb'].answers).toMatchObject({
      dataset: 'csv',
      csvPath: 'churn.csv',
      targetColumn: 'churned',
    });
    expect(read(project, 'train.py')).toMatch(/^DATASET = "csv"/m);
    expect(read(project, 'train.py')).toMatch(/^CSV_PATH = "data\/churn\.csv"/m);
    expect(read(project, 'README.md')).toMatch(/trained on `data\/churn\.csv`/);
    expect(read(project, 'data/churn.csv')).toMatch(/^tenure,plan,churned/);
    // Said to use another dataset, the CSV is refused with the fix, not kept unused
    const iris = sciEb(cwd, 'app', 'm6', '--dataset', 'iris', '--csv', 'churn.csv', '--skip-install');
    expect(iris.status).toBe(2);
    expect(iris.stderr).toMatch(
      /--csv: is for your own CSV, but --dataset is iris: leave out --csv to train on iris, or give --dataset csv/,
    );
    expect(readdirSync(cwd).sort()).toEqual(['churn.csv', 'm5']);
  });

  it('a CSV project takes the gateway later and upgrades, its CSV read from data/ (the original may be gone)', () => {
    const cwd = tmp();
    writeFileSync(path.join(cwd, 'churn.csv'), 'tenure,plan,churned\n1,basic,no\n30,pro,yes\n');
    expect(sciEb(cwd, 'app', 'm7', '--csv', 'churn.csv', '--target', 'churned', '--skip-install').status).toBe(0);
    rmSync(path.join(cwd, 'churn.csv'));
    const project = path.join(cwd, 'm7');
    const gateway = sciEb(project, 'gateway', '--skip-install');
    expect(gateway.status, gateway.output).toBe(0);
    expect(gateway.output).not.toMatch(/data\/churn\.csv/);
    expect(read(project, 'data/churn.csv')).toMatch(/^tenure,plan,churned\n/);
    expect(sciEb(project, 'upgrade').output).toMatch(/Up to date/);
    // Gone from both places: said, with where to put it back
    rmSync(path.join(project, 'data', 'churn.csv'));
    const lost = sciEb(project, 'upgrade');
    expect(lost.status).toBe(2);
    expect(lost.stderr).toMatch(
      /^sci-eb: data\/churn\.csv is missing, and so is churn\.csv, which it was copied from: put the file back at data\/churn\.csv/,
    );
  });

  it('every message names an option that exists: --name is one, on app and upgrade', () => {
    const cwd = tmp();
    const bad = sciEb(cwd, 'app', 'A', '--yes', '--skip-install');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--name: must be 2 to 40 lowercase/);
    const named = sciEb(cwd, 'app', '--name', 'ab', '--yes', '--skip-install');
    expect(named.status, named.output).toBe(0);
    expect(readdirSync(cwd)).toEqual(['ab']);
    expect(sciEb(cwd, 'app', '--name', 'A', '--yes').stderr).toMatch(/--name: must be 2 to 40/);
    // In a project an answer's option changes it, as --set does, and a bad value is named by that option
    const project = path.join(cwd, 'ab');
    const zero = sciEb(project, 'upgrade', '--workers', '0');
    expect(zero.status).toBe(2);
    expect(zero.stderr).toMatch(/--workers: must be a whole number from 1 to 32/);
    const four = sciEb(project, 'upgrade', '--workers', '4');
    expect(four.status, four.output).toBe(0);
    expect(four.output).toMatch(/\.yo-rc\.json: set workers=4/);
    expect(read(project, 'Procfile')).toMatch(/--workers 4 /);
  });

  it('--yes, the conventional flag of a script, is accepted by every generator', () => {
    const cwd = tmp();
    expect(sciEb(cwd, 'app', 'svc', '--yes', '--skip-install').status).toBe(0);
    const project = path.join(cwd, 'svc');
    for (const args of [
      ['upgrade', '--yes'],
      ['upgrade', '-y', '--check'],
      ['requirements', '--yes', '--check'],
    ]) {
      const r = sciEb(project, ...args);
      expect(r.status, `${args.join(' ')}: ${r.output}`).toBe(0);
    }
    const gateway = sciEb(project, 'gateway', '--yes', '--skip-install');
    expect(gateway.status, gateway.output).toBe(0);
  });
});
