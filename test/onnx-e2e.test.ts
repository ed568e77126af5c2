// The onnx runtime, for real: two projects from the same data and seed, one per runtime, trained by their train.py;
// the onnx one served from a venv with nothing but its requirements.txt (no scikit-learn, SciPy, pandas or
// skops), both through the Procfile's command; their answers compared row by row on rows of our own. Then the onnx
// project's own tests, an import the converter must refuse (the previous model stays), and `upgrade --set
// runtime=onnx` of the sklearn project, which serves the same answers again once retrained.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAUNCHER, contents, read } from './helpers.js';
import { freePort, type Gunicorn, openProject, sharedVenv, startGunicorn } from '../harness/index.mjs';

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 900_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

interface Answer {
  predictions: string[];
  probabilities: number[][];
  classes: string[];
}
type Row = Record<string, number>;

describe('the onnx runtime, end to end', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-onnx-'));
  const sk = path.join(work, 'iris-sk');
  const ox = path.join(work, 'iris-ox');
  let skVenv = '';
  let oxVenv = '';
  let serveVenv = '';
  const servers: Gunicorn[] = [];
  let rows: Row[] = [];
  const trainedOutput: Record<string, string> = {};
  let sklearnAnswer: Answer;
  const make = (project: string, venv: string, ...targets: string[]) =>
    run('make', ['--no-print-directory', `VENV=${venv}`, ...targets], project);
  // What `make train` runs (its venv check is e2e.test.ts's business): python train.py in the project.
  const train = (project: string, venv: string) => run(path.join(venv, 'bin', 'python'), ['train.py'], project);

  /** The Procfile's command, started by the harness on a free port (8000 is EB's, and the lock's); its base URL. */
  async function serve(project: string, venv: string): Promise<string> {
    const port = await freePort();
    const opened = openProject(project);
    const web = opened.web.replace('127.0.0.1:8000', `127.0.0.1:${port}`);
    const label = `${opened.name}-${port}`;
    const gunicorn = await startGunicorn({ ...opened, port, web }, { venv, logDir: path.join(work, 'logs'), label });
    servers.push(gunicorn);
    return gunicorn.url;
  }

  async function stop() {
    for (const gunicorn of servers.splice(0)) await gunicorn.stop();
  }

  /** Every row through POST /v1/predict, one request per row (the path single-row clients take) and one batch. */
  async function answersOf(base: string): Promise<Answer> {
    const post = async (instances: Row[]) => {
      const res = await fetch(`${base}/v1/predict`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ instances }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as Answer;
    };
    const batch = await post(rows);
    for (const [i, row] of rows.slice(0, 20).entries()) {
      const one = await post([row]);
      expect(one.predictions[0], `row ${i} alone and in a batch`).toBe(batch.predictions[i]);
    }
    return batch;
  }

  function expectSameAnswers(onnx: Answer, sklearn: Answer) {
    expect(onnx.classes).toEqual(sklearn.classes);
    expect(onnx.predictions).toHaveLength(rows.length);
    for (const [i, label] of sklearn.predictions.entries()) {
      expect(onnx.predictions[i], `row ${i}: ${JSON.stringify(rows[i])}`).toBe(label);
      for (const [j, p] of sklearn.probabilities[i]!.entries())
        expect(Math.abs(onnx.probabilities[i]![j]! - p), `row ${i}, class ${j}`).toBeLessThanOrEqual(1e-5);
    }
  }

  beforeAll(() => {
    for (const [name, extra] of [
      ['iris-sk', []],
      ['iris-ox', ['--runtime', 'onnx']],
    ] as const) {
      const made = run('node', [LAUNCHER, 'app', name, '--yes', '--skip-install', ...extra], work);
      expect(made.status, made.output).toBe(0);
    }
    skVenv = sharedVenv('app', [path.join(sk, 'requirements-dev.txt')]);
    oxVenv = sharedVenv('app', [path.join(ox, 'requirements-dev.txt')]);
    serveVenv = sharedVenv('serve', [path.join(ox, 'requirements.txt')]);
    for (const [project, venv] of [
      [sk, skVenv],
      [ox, oxVenv],
    ]) {
      const trained = train(project, venv);
      expect(trained.status, trained.output).toBe(0);
      trainedOutput[project] = trained.output;
    }
    // Rows of our own, never in the training data: uniform over each feature's observed range, seeded.
    const schema = JSON.parse(read(ox, 'model/schema.json'));
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    rows = Array.from({ length: 300 }, () =>
      Object.fromEntries(
        schema.features.map((f: { name: string; observedMin: number; observedMax: number }) => [
          f.name,
          Math.round((f.observedMin + random() * (f.observedMax - f.observedMin)) * 1000) / 1000,
        ]),
      ),
    );
  }, 1_800_000);

  afterAll(stop);

  it('trains the onnx project to model.onnx beside the sklearn artifact, proven on the held-out rows, both sha256 recorded', () => {
    expect(trainedOutput[ox]).toMatch(
      /converted to ONNX and proven on the 30 held-out rows: the same classes, largest difference [\d.e-]+ \(tolerance 1e-05\)/,
    );
    const model = JSON.parse(read(ox, 'model/schema.json')).model;
    expect(model).toMatchObject({
      runtime: 'onnx',
      artifact: 'model.skops',
      onnx: { artifact: 'model.onnx', parity: { rows: 30, tolerance: 1e-5 } },
    });
    expect(model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(model.onnx.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(path.join(ox, 'model', 'model.onnx'))).toBe(true);
    expect(JSON.parse(read(sk, 'model/schema.json')).model.runtime).toBe('sklearn');
    expect(existsSync(path.join(sk, 'model', 'model.onnx'))).toBe(false);
    // The serving requirements are the runtime's only: the training tools are in requirements-dev.txt.
    expect(read(ox, 'requirements.txt')).toMatch(/^onnxruntime==/m);
    expect(read(ox, 'requirements.txt')).not.toMatch(/scikit-learn|scipy|pandas|skops|skl2onnx/);
    expect(read(ox, 'requirements-dev.txt')).toMatch(/^scikit-learn==[\s\S]*^skl2onnx==/m);
  });

  it('serves the same answers as the sklearn runtime on rows of our own, row by row, from requirements.txt alone', async () => {
    // The onnx service runs in a venv with its requirements.txt and nothing else: scikit-learn is not even there.
    expect(run(path.join(serveVenv, 'bin', 'python'), ['-c', 'import sklearn'], work).status).not.toBe(0);
    const [skBase, oxBase] = [await serve(sk, skVenv), await serve(ox, serveVenv)];
    sklearnAnswer = await answersOf(skBase);
    expectSameAnswers(await answersOf(oxBase), sklearnAnswer);
    // Same contract, same errors: a bad row is refused by both with the same body.
    const bad = JSON.stringify({ instances: [{ ...rows[0], petal_width_cm: 'wide' }] });
    const [a, b] = await Promise.all(
      [skBase, oxBase].map(async (base) =>
        (
          await fetch(`${base}/v1/predict`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'same-id' },
            body: bad,
          })
        ).text(),
      ),
    );
    expect(b).toBe(a);
    await stop();
  }, 300_000);

  it('passes its own test suite with make test on the onnx runtime', () => {
    const tested = make(ox, oxVenv, 'test');
    expect(tested.status, tested.output).toBe(0);
    expect(tested.output).toMatch(/\d+ passed/);
    expect(tested.output).not.toMatch(/failed|error|skipped/i);
  }, 600_000);

  it('import: refuses a pipeline with a step ONNX cannot express, naming it, and the previous model stays; a convertible one is proven and imported', () => {
    const sample = path.join(work, 'rows.csv');
    const names = Object.keys(rows[0]!);
    writeFileSync(
      sample,
      `${names.join(',')}\n${rows
        .slice(0, 50)
        .map((r) => names.map((n) => r[n]).join(','))
        .join('\n')}\n`,
    );
    // A notebook's pipeline with a FunctionTransformer running numpy's log1p: scikit-learn serves it, ONNX cannot.
    const unconvertible = path.join(work, 'log1p.joblib');
    const fit = [
      'import sys, joblib, numpy as np, pandas as pd',
      'from sklearn.linear_model import LogisticRegression',
      'from sklearn.pipeline import Pipeline',
      'from sklearn.preprocessing import FunctionTransformer',
      'X = pd.read_csv(sys.argv[1]); y = np.where(X["petal_length_cm"] > 3.5, "large", "small")',
      'joblib.dump(Pipeline([("log", FunctionTransformer(np.log1p)), ("model", LogisticRegression())]).fit(X, y), sys.argv[2])',
    ].join('\n');
    const made = run(path.join(oxVenv, 'bin', 'python'), ['-c', fit, sample, unconvertible], work);
    expect(made.status, made.output).toBe(0);
    const before = contents(ox);
    const refused = run(
      'node',
      [LAUNCHER, 'model', 'import', unconvertible, '--sample', sample, '--target', 'size', '--trust-pickle'],
      ox,
      { VENV: oxVenv },
    );
    expect(refused.status, refused.output).toBe(2);
    expect(refused.output).toMatch(
      /the onnx runtime cannot serve this model: step log \(FunctionTransformer\) cannot be converted to ONNX: it runs Python code \(log1p\).*stay on --runtime sklearn.*Nothing was changed/s,
    );
    expect(contents(ox)).toEqual(before);
    // The sklearn project's forest, brought as a file: converted, proven on the sample in process and over HTTP.
    // What the sklearn project's train.py vouched for in its trust.json (never model/schema.json).
    const trusted = Object.keys(JSON.parse(read(sk, 'trust.json')).skopsTypes).flatMap((t) => ['--trust-type', t]);
    const imported = run(
      'node',
      [
        LAUNCHER,
        'model',
        'import',
        path.join(sk, 'model', 'model.skops'),
        '--sample',
        sample,
        '--target',
        'species',
        ...trusted,
      ],
      ox,
      { VENV: oxVenv },
    );
    expect(imported.status, imported.output).toBe(0);
    const model = JSON.parse(read(ox, 'model/schema.json')).model;
    expect(model).toMatchObject({
      source: 'import',
      runtime: 'onnx',
      onnx: { parity: { rows: 50, on: 'sample rows' } },
    });
  }, 600_000);

  it('upgrade --set runtime=onnx: the sklearn project gets the onnx pins, refuses its old model until retrained, then serves the same answers', async () => {
    const upgraded = run('node', [LAUNCHER, 'upgrade', '--set', 'runtime=onnx'], sk);
    expect(upgraded.status, upgraded.output).toBe(0);
    expect(read(sk, 'requirements.txt')).toBe(read(ox, 'requirements.txt').replace(/iris-ox/g, 'iris-sk'));
    expect(read(sk, 'serving/settings.py')).toMatch(/^RUNTIME = "onnx"$/m);
    const stale = run(path.join(oxVenv, 'bin', 'python'), ['-c', 'from serving import create_app; create_app()'], sk);
    expect(stale.status).not.toBe(0);
    expect(stale.output).toMatch(
      /written for the sklearn runtime but this project serves with onnx.*run `make train`/s,
    );
    const retrained = train(sk, oxVenv);
    expect(retrained.status, retrained.output).toBe(0);
    expect(existsSync(path.join(sk, 'model', 'model.onnx'))).toBe(true);
    expectSameAnswers(await answersOf(await serve(sk, serveVenv)), sklearnAnswer);
    await stop();
    expect(readFileSync(path.join(sk, '.yo-rc.json'), 'utf8')).toMatch(/"runtime":\s*"onnx"/);
  }, 600_000);
});
