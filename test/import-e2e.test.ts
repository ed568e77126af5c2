// Bring your own model, for real: models of kinds the generated train.py never makes (a ColumnTransformer with
// SimpleImputer + OneHotEncoder + HistGradientBoostingClassifier), fitted in the project's venv the way a notebook
// would, saved as skops, joblib, pickle and an MLflow sklearn folder, then imported with `sci-eb model import` and
// `sci-eb app NAME --model`. Refusals must leave the project byte for byte as it was; a successful import must pass
// the project's own tests and serve, through the Procfile's command, the model's own in-process predictions.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, LAUNCHER, contents, read, snapshot } from './helpers.js';
import { acquirePort8000, sharedVenv } from '../harness/index.mjs';

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 900_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

interface Expected {
  predictions: string[];
  probabilities: number[][];
  classes: string[];
  untrusted: string[];
}

describe('bring your own model', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-byo-'));
  const project = path.join(work, 'loans');
  const byo = path.join(work, 'byo');
  let venv = '';
  let expected: Expected;
  const sample = () => ['--sample', path.join(byo, 'sample.csv'), '--target', 'decision'];
  // `sci-eb model import` inside the project, with the shared venv standing in for the project's .venv.
  const importModel = (...args: string[]) =>
    run('node', [LAUNCHER, 'model', 'import', ...args], project, { VENV: venv });
  const trustFlags = () => expected.untrusted.flatMap((t) => ['--trust-type', t]);

  beforeAll(() => {
    expect(run('node', [LAUNCHER, 'app', 'loans', '--yes', '--skip-install'], work).status).toBe(0);
    venv = sharedVenv('app', [path.join(project, 'requirements-dev.txt')]);
    const made = run(path.join(venv, 'bin', 'python'), [path.join(FIXTURES, 'byo', 'make_models.py'), byo], work);
    expect(made.status, made.output).toBe(0);
    expected = JSON.parse(readFileSync(path.join(byo, 'expected.json'), 'utf8'));
    const train = run('make', ['--no-print-directory', `VENV=${venv}`, 'train'], project);
    expect(train.status, train.output).toBe(0);
  }, 900_000);

  it('refuses a pickle without --trust-pickle, saying why, and changes nothing', () => {
    const before = contents(project);
    for (const file of ['loan.joblib', 'loan.pkl']) {
      const r = importModel(path.join(byo, file), ...sample());
      expect(r.status, r.output).toBe(2);
      expect(r.output).toMatch(/is a pickle .*runs whatever code it contains.*--trust-pickle/s);
      expect(r.output).toMatch(/Nothing was changed/);
    }
    expect(contents(project)).toEqual(before);
  });

  it('refuses a skops file with types nobody trusted, listing each with the flag that trusts it', () => {
    const before = contents(project);
    const r = importModel(path.join(byo, 'custom.skops'), ...sample());
    expect(r.status, r.output).toBe(2);
    for (const type of expected.untrusted) expect(r.output).toContain(`--trust-type ${type}`);
    // The notebook's own function (__main__.double) is no type to trust: no service could import it. Said apart.
    expect(r.output).toMatch(/the model refers to __main__\.double, defined in the notebook or script that saved it/);
    expect(r.output).not.toContain('--trust-type __main__.double');
    // Trusting the library's types leaves that one problem, with how to move the function into a module.
    const partly = importModel(path.join(byo, 'custom.skops'), ...sample(), ...trustFlags());
    expect(partly.status).toBe(2);
    expect(partly.output).toMatch(/^error: the model refers to __main__\.double.*import it with --code my_code\.py\./m);
    expect(contents(project)).toEqual(before);
  });

  it('names what it found when it is not a model, and what is missing when information is', () => {
    const before = contents(project);
    const cases: Array<[string[], RegExp]> = [
      [[path.join(byo, 'not-a-model.npy'), ...sample()], /is a NumPy array file \(\.npy\), not a scikit-learn model/],
      [[byo, ...sample()], /is a folder without an MLmodel file/],
      [[path.join(byo, 'sample.csv'), ...sample()], /is a text file \(it starts with 'income,y'\)/],
      [[path.join(byo, 'loan.skops'), ...trustFlags()], /--sample CSV is required/],
      [
        [path.join(byo, 'loan.skops'), '--sample', path.join(FIXTURES, 'houses.csv'), ...trustFlags()],
        /the sample lacks the model's input column\(s\) income, years, region, plan \(names from the model's feature_names_in_\)/,
      ],
      // --keep-pins: told, not re-pinned. The advice is a set pip resolved to binary wheels for the project's Python and architecture (PyPI, as pins.test.ts).
      [
        [path.join(byo, 'other-version.joblib'), ...sample(), '--trust-pickle', '--keep-pins'],
        /written by scikit-learn 1\.5\.2, but this project runs scikit-learn 1\.9\.1.*Pins with binary wheels for Python 3\.11 \(x86_64\) that follow the artifact: .*numpy==\d.*scikit-learn==1\.5\.2 .*--allow-version-mismatch/s,
      ],
    ];
    for (const [args, message] of cases) {
      const r = importModel(...args);
      expect(r.status, r.output).toBe(2);
      expect(r.output).toMatch(message);
    }
    expect(contents(project)).toEqual(before);
  });

  it('imports a joblib pipeline with --trust-pickle and an MLflow sklearn folder: re-saved as skops, schema derived', () => {
    const joblib = importModel(path.join(byo, 'loan.joblib'), ...sample(), '--trust-pickle');
    expect(joblib.status, joblib.output).toBe(0);
    expect(joblib.output).toMatch(/proved on 240 sample rows: in process and served by the Procfile's command/);
    // The MLflow folder is laid out by hand by make_models.py (MLmodel, requirements.txt, cloudpickle model.pkl):
    // mlflow itself is not in the venv (it would pull hundreds of MB for one test).
    const mlflow = importModel(path.join(byo, 'mlflow-loan'), ...sample(), '--trust-pickle');
    expect(mlflow.status, mlflow.output).toBe(0);
    const schema = JSON.parse(read(project, 'model/schema.json'));
    expect(schema.model).toMatchObject({
      format: 'skops',
      artifact: 'model.skops',
      source: 'import',
      importedAs: 'mlflow-pickle',
      task: 'classification',
      estimator: 'HistGradientBoostingClassifier',
    });
    expect(existsSync(path.join(project, 'model', 'model.joblib'))).toBe(false);
    expect(schema.features.map((f: { name: string; type: string }) => `${f.name}:${f.type}`)).toEqual([
      'income:number',
      'years:integer',
      'region:category',
      'plan:category',
    ]);
    expect(schema.features[2]).toMatchObject({ nullable: true, categories: ['east', 'north', 'south', 'west'] });
    expect(schema.target).toEqual({
      name: 'decision',
      type: 'category',
      classes: expected.classes,
      outputs: ['probabilities'],
    });
    expect(readFileSync(path.join(project, 'model', 'model.skops')).length).toBeGreaterThan(0);
    expect(existsSync(path.join(project, 'model', 'sample.csv'))).toBe(false); // the sample is not shipped
  });

  it('a model from another scikit-learn (1.5.2, fitted in its own venv, also saved by real MLflow): the import re-pins requirements.txt, rebuilds the venv and proves it; Ctrl-C or a failed proof puts everything back', async () => {
    // The notebook: its own venv with scikit-learn 1.5.2, fitting and saving the same pipeline.
    const notebook = sharedVenv('sklearn-1.5.2', [path.join(FIXTURES, 'byo', 'sklearn-1.5.2.txt')]);
    const old = path.join(work, 'byo-1.5.2');
    const made = run(path.join(notebook, 'bin', 'python'), [path.join(FIXTURES, 'byo', 'make_models.py'), old], work);
    expect(made.status, made.output).toBe(0);
    const oldExpected: Expected = JSON.parse(readFileSync(path.join(old, 'expected.json'), 'utf8'));
    const oldSample = ['--sample', path.join(old, 'sample.csv'), '--target', 'decision'];
    const trust = oldExpected.untrusted.flatMap((t) => ['--trust-type', t]);
    // --keep-pins: refused with the pins that follow the artifact, nothing written (the shared venv stays as it is).
    const before = contents(project);
    const refused = importModel(path.join(old, 'loan.joblib'), ...oldSample, '--trust-pickle', '--keep-pins');
    expect(refused.status, refused.output).toBe(2);
    expect(refused.output).toMatch(/that follow the artifact: .*scikit-learn==1\.5\.2.*Import without --keep-pins/s);
    const mlflowRefused = importModel(path.join(old, 'mlflow-loan'), ...oldSample, '--trust-pickle', '--keep-pins');
    expect(mlflowRefused.status).toBe(2);
    expect(mlflowRefused.output).toMatch(/written by scikit-learn 1\.5\.2/); // from MLmodel, before loading anything
    expect(contents(project)).toEqual(before);

    // A copy of the project with its own .venv, made by `make venv` as a user would (scikit-learn 1.9.1).
    const own = path.join(work, 'loans-own');
    cpSync(project, own, { recursive: true });
    const venvMade = run('make', ['--no-print-directory', 'venv'], own);
    expect(venvMade.status, venvMade.output).toBe(0);
    const ownImport = (...args: string[]) => run('node', [LAUNCHER, 'model', 'import', ...args], own, { VENV: '' });
    const sklearnIn = () =>
      run(
        path.join(own, '.venv', 'bin', 'python'),
        ['-c', 'import sklearn; print(sklearn.__version__)'],
        own,
      ).output.trim();
    const marker = () => statSync(path.join(own, '.venv', '.installed')).mtimeMs;
    const oldRequirements = read(own, 'requirements.txt');

    const ownBefore = snapshot(own);
    const markerBefore = marker();
    const leftovers = () => readdirSync(own).filter((f) => /before-import|requirements-import|model-import/.test(f));

    // Ctrl-C while pip rebuilds the venv (SIGINT to the whole process group, as a terminal sends it): all back.
    const interrupted = spawn(
      path.join(own, '.venv', 'bin', 'python'),
      [path.join(own, 'tools', 'import_model.py'), path.join(old, 'loan.skops'), ...oldSample, ...trust],
      { cwd: own, detached: true },
    );
    let interruptedLog = '';
    const exited = new Promise<number | null>((res) => interrupted.once('exit', (code) => res(code)));
    await new Promise<void>((res, rej) => {
      const onData = (d: Buffer) => {
        interruptedLog += d;
        if (/rebuilding .* from the new pins/.test(interruptedLog)) setTimeout(res, 4000); // pip is installing by then
      };
      interrupted.stdout!.on('data', onData);
      interrupted.stderr!.on('data', (d) => {
        interruptedLog += d;
      });
      interrupted.once('exit', () => rej(new Error(`exited before the rebuild:\n${interruptedLog}`)));
    });
    process.kill(-interrupted.pid!, 'SIGINT');
    expect(await exited, interruptedLog).toBe(130);
    expect(interruptedLog).toMatch(
      /requirements\.txt, requirements-dev\.txt and .*\.venv are as they were before the import/,
    );
    expect(interruptedLog).toMatch(/interrupted\. Nothing was changed\./);
    expect(snapshot(own)).toEqual(ownBefore);
    expect(marker()).toBe(markerBefore);
    expect(sklearnIn()).toBe('1.9.1');
    expect(leftovers()).toEqual([]);

    // Re-pinned and rebuilt, but the proof fails (a sample without the model's columns): every file back as it was,
    // byte for byte and mtime for mtime, and the old venv with its marker.
    const failed = ownImport(path.join(old, 'loan.skops'), '--sample', path.join(FIXTURES, 'houses.csv'), ...trust);
    expect(failed.status, failed.output).toBe(2);
    expect(failed.output).toMatch(
      // the set may move other pins too (a pandas released since the project's pins were chosen, say): each is listed
      /Re-pinning to a set with binary wheels for Python 3\.11 \(x86_64\): (?:[^\n]*, )?scikit-learn 1\.9\.1 -> 1\.5\.2/,
    );
    expect(failed.output).toMatch(/the sample lacks the model's input column/);
    expect(failed.output).toMatch(
      /requirements\.txt, requirements-dev\.txt and .*\.venv are as they were before the import/,
    );
    expect(snapshot(own)).toEqual(ownBefore);
    expect(marker()).toBe(markerBefore);
    expect(sklearnIn()).toBe('1.9.1');
    expect(leftovers()).toEqual([]);

    // The same with the right sample: re-pinned, rebuilt, proven, swapped.
    const devBefore = snapshot(own)['requirements-dev.txt'];
    const r = ownImport(path.join(old, 'loan.skops'), ...oldSample, ...trust);
    expect(r.status, r.output).toBe(0);
    expect(snapshot(own)['requirements-dev.txt']).toBe(devBefore); // it pins none of the set: not even its mtime moves
    expect(r.output).toMatch(/proved on 240 sample rows/);
    expect(r.output).toMatch(/requirements\.txt now pins scikit-learn==1\.5\.2/);
    expect(sklearnIn()).toBe('1.5.2');
    expect(JSON.parse(read(own, 'model/schema.json')).model).toMatchObject({
      sklearnVersion: '1.5.2',
      writtenBySklearn: '1.5.2',
    });
    // Only the versions of the artifact's set changed; every other line (comments, the order) is as it was.
    const newRequirements = read(own, 'requirements.txt');
    expect(newRequirements).toMatch(/^scikit-learn==1\.5\.2$/m);
    const oldLines = oldRequirements.split('\n');
    const newLines = newRequirements.split('\n');
    expect(newLines.length).toBe(oldLines.length);
    const changed = oldLines.filter((l, i) => l !== newLines[i]).map((l) => l.split('==')[0]!.toLowerCase());
    expect(changed).toContain('scikit-learn');
    for (const name of changed)
      expect(['scikit-learn', 'numpy', 'scipy', 'pandas', 'joblib', 'threadpoolctl']).toContain(name);
    // make's marker is newer than the requirement files: `make venv` has nothing to do.
    expect(run('make', ['--no-print-directory', '-q', 'venv'], own).status).toBe(0);

    // A folder written by real MLflow (mlflow.sklearn.save_model, cloudpickle) in the notebook venv: the project now
    // runs 1.5.2, so it imports without re-pinning.
    expect(read(old, 'mlflow-loan/MLmodel')).toMatch(/mlflow_version: 3\.17\.2/);
    const mlflow = ownImport(path.join(old, 'mlflow-loan'), ...oldSample, '--trust-pickle');
    expect(mlflow.status, mlflow.output).toBe(0);
    expect(mlflow.output).not.toMatch(/Re-pinning/);
    expect(JSON.parse(read(own, 'model/schema.json')).model).toMatchObject({
      importedAs: 'mlflow-pickle',
      writtenBySklearn: '1.5.2',
    });
    const tests = run('make', ['--no-print-directory', 'test'], own);
    expect(tests.status, tests.output).toBe(0);
    expect(tests.output).not.toMatch(/failed|skipped/);
    // The artifact's pins are the user's edits now: an upgrade keeps them (requirements.txt does not change).
    const upgrade = run('node', [LAUNCHER, 'upgrade'], own);
    expect(upgrade.status, upgrade.output).toBe(0);
    expect(read(own, 'requirements.txt')).toBe(newRequirements);
  }, 1_800_000);

  describe('a skops pipeline imported with its types trusted', () => {
    let server: ChildProcess | undefined;
    let releasePort = () => {};
    afterAll(async () => {
      if (server && server.exitCode === null) {
        process.kill(-server.pid!, 'SIGTERM');
        await new Promise((r) => server!.once('exit', r));
      }
      releasePort();
    });

    it("imports, passes make test, and make serve answers the model's own in-process predictions", async () => {
      const r = importModel(path.join(byo, 'loan.skops'), ...sample(), ...trustFlags());
      expect(r.status, r.output).toBe(0);
      const schema = JSON.parse(read(project, 'model/schema.json'));
      expect(schema.model.trustedTypes).toBeUndefined(); // model/ never says what may run: trust.json does
      const vouched = JSON.parse(read(project, 'trust.json')).skopsTypes;
      for (const type of expected.untrusted)
        expect(vouched[type], type).toMatch(/^(make import of loan\.(skops|joblib) \((skops|pickle)\)|train\.py), /);
      const tests = run('make', ['--no-print-directory', `VENV=${venv}`, 'test'], project);
      expect(tests.status, tests.output).toBe(0);
      expect(tests.output).toMatch(/\d+ passed/);
      expect(tests.output).not.toMatch(/failed|skipped/);

      releasePort = await acquirePort8000();
      let log = '';
      server = spawn('make', ['--no-print-directory', `VENV=${venv}`, 'serve'], { cwd: project, detached: true });
      server.stdout!.on('data', (d) => {
        log += d;
      });
      server.stderr!.on('data', (d) => {
        log += d;
      });
      const deadline = Date.now() + 120_000;
      for (;;) {
        if (server.exitCode !== null) throw new Error(`make serve exited:\n${log}`);
        try {
          if ((await fetch('http://127.0.0.1:8000/health')).ok) break;
        } catch {
          /* not yet */
        }
        if (Date.now() > deadline) throw new Error(`no answer:\n${log}`);
        await new Promise((res) => setTimeout(res, 250));
      }
      // The sample rows as a client sends them: JSON nulls for the gaps, whole numbers for the integer column.
      const csv = readFileSync(path.join(byo, 'sample.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
      const rows = csv.map(([income, years, region, plan]) => ({
        income: income ? Number(income) : null,
        years: Number(years),
        region: region || null,
        plan,
      }));
      const res = await fetch('http://127.0.0.1:8000/v1/predict', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: rows }),
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.classes).toEqual(expected.classes);
      expect(body.predictions).toEqual(expected.predictions);
      body.probabilities.forEach((p: number[], i: number) => {
        p.forEach((v, j) => {
          expect(v).toBeCloseTo(expected.probabilities[i]![j]!, 12);
        });
      });
    }, 600_000);
  });

  it('sci-eb app NAME --model: generates, creates the venv, imports; a pickle without trust writes nothing', () => {
    const refused = run(
      'node',
      [LAUNCHER, 'app', 'from-pickle', '--yes', '--model', path.join(byo, 'loan.joblib'), ...sample()],
      work,
    );
    expect(refused.status).toBe(2);
    expect(refused.output).toMatch(/--model: .*is a pickle.*--trust-pickle/);
    expect(existsSync(path.join(work, 'from-pickle'))).toBe(false);

    const r = run(
      'node',
      [
        LAUNCHER,
        'app',
        'from-skops',
        '--yes',
        '--model',
        path.join(byo, 'loan.skops'),
        ...sample(),
        '--trust-type',
        expected.untrusted.join(','),
      ],
      work,
    );
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/Import your model/);
    expect(r.output).not.toMatch(/Train the model/);
    const schema = JSON.parse(read(path.join(work, 'from-skops'), 'model/schema.json'));
    expect(schema.model).toMatchObject({ name: 'from-skops', source: 'import', format: 'skops' });
    expect(schema.target.classes).toEqual(expected.classes);
  }, 900_000);
});
