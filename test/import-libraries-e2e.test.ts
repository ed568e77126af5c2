// Models of the kinds data scientists deploy, made in a notebook venv of their own (test/fixtures/byo/zoo.txt: an
// older scikit-learn, LightGBM, XGBoost, CatBoost, skops and real MLflow; make_zoo.py), brought to a project the way
// a user does: `sci-eb app NAME --model ...` and `sci-eb model import ...`. Refusals come before anything is written
// or installed, and a project whose import fails is removed again; an import pins the libraries the model needs and
// brings the user's own code into model_code/; the service started with the Procfile's command answers the held-out
// rows exactly as the model did in the notebook.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, LAUNCHER, read } from './helpers.js';
import { acquirePort8000, sharedVenv, start, stop, waitHttp } from '../harness/index.mjs';

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 1_200_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, seconds: (Date.now() - started) / 1000 };
};

interface Answers {
  predictions: Array<string | number>;
  probabilities?: number[][];
  classes?: string[];
}

/** The held-out rows as a client sends them (JSON nulls for gaps, whole numbers for the integer column). */
function holdoutRows(zoo: string) {
  const [header, ...lines] = readFileSync(path.join(zoo, 'holdout.csv'), 'utf8').trim().split('\n');
  const columns = header!.split(',');
  return lines.map((line) => {
    const cells = Object.fromEntries(line.split(',').map((v, i) => [columns[i], v]));
    return {
      income: cells.income ? Number(cells.income) : null,
      years: Number(cells.years),
      region: cells.region || null,
      plan: cells.plan,
    };
  });
}

/** The project's service, started with its Procfile's command on 127.0.0.1:8000, asked for `rows`, stopped. */
async function served(project: string, rows: object[]): Promise<Answers> {
  const release = await acquirePort8000();
  const web = read(project, 'Procfile')
    .replace(/^web:\s*/, '')
    .trim();
  const [command, ...args] = web.split(/\s+/);
  const child = start('gunicorn', command!, args, {
    cwd: project,
    env: { ...process.env, PATH: `${path.join(project, '.venv', 'bin')}:${process.env.PATH}` },
  });
  try {
    await waitHttp('http://127.0.0.1:8000/health', child, 120_000);
    const res = await fetch('http://127.0.0.1:8000/v1/predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: rows }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Answers;
  } finally {
    await stop(child);
    release();
  }
}

/** Labels equal and probabilities (or values) within 1e-9 of the notebook's own answers: the largest difference. */
function largestDifference(got: Answers, expected: Answers): number {
  if (expected.probabilities) {
    expect(got.predictions).toEqual(expected.predictions);
    expect(got.classes).toEqual(expected.classes);
    return Math.max(
      ...got.probabilities!.flatMap((p, i) => p.map((v, j) => Math.abs(v - expected.probabilities![i]![j]!))),
    );
  }
  return Math.max(...got.predictions.map((v, i) => Math.abs(Number(v) - Number(expected.predictions[i]))));
}

/**
 * The onnx runtime computes in float32: labels equal, probabilities within 1e-5, regression values within 1e-5 of
 * max(|value|, 1) (the tolerance tools/onnx_conversion.py proves before it writes model.onnx): the largest difference.
 */
function largestOnnxDifference(got: Answers, expected: Answers): number {
  if (expected.probabilities) return largestDifference(got, expected);
  return Math.max(
    ...got.predictions.map(
      (v, i) => Math.abs(Number(v) - Number(expected.predictions[i])) / Math.max(Math.abs(Number(v)), 1),
    ),
  );
}

describe('models with libraries and code of their own', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-zoo-'));
  const zoo = path.join(work, 'zoo');
  const project = path.join(work, 'loans');
  let expected: Record<string, Answers>;
  let untrusted: Record<string, string[]>;
  const holdout = () => ['--sample', path.join(zoo, 'holdout.csv')];
  const app = (name: string, ...args: string[]) => run('node', [LAUNCHER, 'app', name, '--yes', ...args], work);

  beforeAll(() => {
    const notebook = sharedVenv('zoo', [path.join(FIXTURES, 'byo', 'zoo.txt')]);
    const made = run(path.join(notebook, 'bin', 'python'), [path.join(FIXTURES, 'byo', 'make_zoo.py'), zoo], work);
    expect(made.status, made.output).toBe(0);
    expected = JSON.parse(readFileSync(path.join(zoo, 'expected.json'), 'utf8'));
    untrusted = JSON.parse(readFileSync(path.join(zoo, 'untrusted.json'), 'utf8'));
  }, 1_200_000);

  it('sci-eb app --model: what the bytes decide is refused in seconds, every problem with its fix, nothing written', () => {
    const cases: Array<[string[], RegExp[]]> = [
      [
        [path.join(zoo, 'code.joblib'), ...holdout(), '--target', 'decision'],
        [
          /--model: the model needs the module loan_features \(loan_features\.RatioFeatures\).*bring it with --code path\/to\/loan_features\.py/,
          /--model: .*code\.joblib is a pickle .*add --trust-pickle/,
        ],
      ],
      [
        [path.join(zoo, 'main.joblib'), ...holdout(), '--trust-pickle'],
        [/--model: the model refers to __main__\.notebook_scale, defined in the notebook or script that saved it/],
      ],
      [
        [path.join(zoo, 'mlflow-lgbm')],
        [
          /--model: the skops file contains types nobody vouched for: collections\.OrderedDict, lightgbm\.basic\.Booster, lightgbm\.sklearn\.LGBMClassifier, numpy\.dtype\. The MLflow folder lists .* add --trust-mlflow-types to accept all 4 at once/,
        ],
      ],
      [
        [path.join(zoo, 'mlflow-code'), '--trust-mlflow-types'],
        [/--model: the model uses loan_features\.RatioFeatures from your own code.*add --code .*mlflow-code\/code/],
      ],
    ];
    for (const [args, messages] of cases) {
      const r = app('refused', '--model', ...args);
      expect(r.status, r.output).toBe(2);
      for (const message of messages) expect(r.output).toMatch(message);
      expect(r.output).toMatch(/Nothing was written\./);
      expect(r.seconds).toBeLessThan(30); // no venv, no pip install: the system python3 reads the bytes
      expect(existsSync(path.join(work, 'refused'))).toBe(false);
    }
  });

  it("sci-eb app --model with its library trusted and skops' other types not: refused in seconds, all listed", () => {
    // The preflight (no skops, no venv) asks for what skops itself refuses, loader by loader: LightGBM's
    // defaultdict(OrderedDict) and a dtype too, not only the library's types, so no venv is built to learn of them.
    const lightgbmTypes = untrusted.lgbm!.filter((t) => t.startsWith('lightgbm.')).join(',');
    const r = app('half-trusted', '--model', path.join(zoo, 'lgbm.skops'), ...holdout(), '--trust-type', lightgbmTypes);
    expect(r.status, r.output).toBe(2);
    expect(r.output).toMatch(
      /--model: the skops file contains types nobody vouched for: collections\.OrderedDict, numpy\.dtype\. If you trust them, import the model again with --trust-type collections\.OrderedDict --trust-type numpy\.dtype/,
    );
    expect(r.output).not.toMatch(/Create \.venv and install/);
    expect(r.output).toMatch(/Nothing was written\./);
    expect(r.seconds).toBeLessThan(30);
    expect(readdirSync(work).sort()).toEqual(['zoo']);
  });

  it('an MLflow LightGBM folder with code_paths: no sample, one trust flag, its code in model_code/, served as in the notebook', async () => {
    const r = app(
      'loans',
      '--model',
      path.join(zoo, 'mlflow-code'),
      '--trust-mlflow-types',
      '--code',
      path.join(zoo, 'mlflow-code', 'code'),
      '--target',
      'decision',
    );
    expect(r.status, r.output).toBe(0);
    console.log(`MLflow LightGBM + own code (re-pin to scikit-learn 1.7.2, lightgbm added): ${r.seconds.toFixed(0)} s`);
    expect(r.output).toMatch(/no --sample: the schema is derived from the MLflow signature and the 5 rows/);
    expect(r.output).toMatch(/scikit-learn 1\.9\.1 -> 1\.7\.2 \(requirements\.txt\), lightgbm \(none\) -> 4\.7\.0/);
    expect(r.output).toMatch(/proved on 5 input example rows: .*\(largest difference 0\)/);
    const requirements = read(project, 'requirements.txt');
    expect(requirements).toMatch(/^scikit-learn==1\.7\.2$/m);
    expect(requirements).toMatch(/^# The imported model's own libraries .*\nlightgbm==4\.7\.0$/m);
    expect(readdirSync(path.join(project, 'model_code')).sort()).toEqual(['README.md', 'loan_features.py']);
    expect(read(project, 'model_code/loan_features.py')).toBe(read(zoo, 'mlflow-code/code/loan_features.py'));
    expect(read(project, '.ebignore')).toMatch(/^!\/model_code\/\*\*$/m); // EB gets the code with the model
    const schema = JSON.parse(read(project, 'model/schema.json'));
    // MLflow's recorded types, accepted with --trust-mlflow-types, are vouched for in trust.json, never in model/.
    expect(schema.model.trustedTypes).toBeUndefined();
    expect(Object.keys(JSON.parse(read(project, 'trust.json')).skopsTypes)).toContain('loan_features.RatioFeatures');
    // Categories from the model's encoders, not only the five example rows; nullability from the signature.
    const region = schema.features.find((f: { name: string }) => f.name === 'region');
    expect(region).toMatchObject({ nullable: true, categories: ['east', 'north', 'south', 'west'] });

    const difference = largestDifference(await served(project, holdoutRows(zoo)), expected['mlflow-code']!);
    console.log(`served vs notebook on 60 held-out rows: largest difference ${difference}`);
    expect(difference).toBeLessThanOrEqual(1e-9);
    const tests = run('make', ['--no-print-directory', 'test'], project);
    expect(tests.status, tests.output).toBe(0);
    expect(tests.output).not.toMatch(/failed|skipped/);
    // The user's code and the model's pins are the user's: an upgrade keeps both.
    const upgrade = run('node', [LAUNCHER, 'upgrade'], project);
    expect(upgrade.status, upgrade.output).toBe(0);
    expect(read(project, 'requirements.txt')).toBe(requirements);
    expect(read(project, 'model_code/loan_features.py')).toBe(read(zoo, 'mlflow-code/code/loan_features.py'));
    // --model in a project that exists is refused with the command to run there, nothing changed.
    const again = app('loans', '--model', path.join(zoo, 'xgb.joblib'), '--trust-pickle', ...holdout());
    expect(again.status, again.output).toBe(2);
    expect(again.output).toMatch(/loans is already a sci-eb project.*tools\/import_model\.py .*xgb\.joblib/s);
  }, 1_800_000);

  it('XGBoost and CatBoost joblib models: the version each records is pinned, installed into the venv, served as in the notebook', async () => {
    for (const [name, target, library] of [
      ['xgb', 'amount', /^xgboost-cpu==3\.1\.2$/m],
      ['catboost', 'decision', /^catboost==1\.2\.8$/m],
    ] as const) {
      const r = run(
        'node',
        [
          LAUNCHER,
          'model',
          'import',
          path.join(zoo, `${name}.joblib`),
          '--trust-pickle',
          ...holdout(),
          '--target',
          target,
        ],
        project,
      );
      expect(r.status, r.output).toBe(0);
      console.log(`${name}.joblib import (library installed into the venv): ${r.seconds.toFixed(0)} s`);
      expect(r.output).not.toMatch(/Re-pinning|rebuilding/); // the project runs the model's scikit-learn already
      expect(r.output).toMatch(/installing .* into .*\.venv \(the model needs them\)/);
      expect(read(project, 'requirements.txt')).toMatch(library);
      const difference = largestDifference(await served(project, holdoutRows(zoo)), expected[name]!);
      console.log(`${name}: served vs notebook on 60 held-out rows: largest difference ${difference}`);
      expect(difference).toBeLessThanOrEqual(1e-9);
    }
    expect(read(project, 'requirements.txt')).not.toMatch(/^xgboost==|nvidia/m);
    // The venv is what make would build from requirements.txt: `make venv` has nothing to do.
    expect(run('make', ['--no-print-directory', '-q', 'venv'], project).status).toBe(0);
  }, 1_800_000);
  it('on --runtime onnx: LightGBM and XGBoost models via make import and sci-eb model import, converted by onnxmltools, served as in the notebook', async () => {
    // The models' scikit-learn (1.7.2) is re-pinned in requirements-dev.txt, where the onnx runtime pins it, and
    // their libraries go there too: EB serves model.onnx with requirements.txt alone.
    const onnxProject = path.join(work, 'loans-ox');
    const made = app('loans-ox', '--runtime', 'onnx', '--skip-install');
    expect(made.status, made.output).toBe(0);
    const servingPins = read(onnxProject, 'requirements.txt');
    const imports = [
      {
        name: 'lgbm',
        library: /^lightgbm==4\.7\.0$/m,
        // make import builds the venv from requirements-dev.txt first, as a user would run it
        command: [
          'make',
          [
            '--no-print-directory',
            'import',
            `MODEL=${path.join(zoo, 'lgbm.joblib')}`,
            `SAMPLE=${path.join(zoo, 'holdout.csv')}`,
            'TARGET=decision',
            'IMPORT_FLAGS=--trust-pickle',
          ],
        ],
      },
      {
        name: 'xgb',
        library: /^xgboost-cpu==3\.1\.2$/m,
        command: [
          'node',
          [
            LAUNCHER,
            'model',
            'import',
            path.join(zoo, 'xgb.joblib'),
            '--trust-pickle',
            ...holdout(),
            '--target',
            'amount',
          ],
        ],
      },
    ] as const;
    for (const { name, library, command } of imports) {
      const r = run(command[0], [...command[1]], onnxProject);
      expect(r.status, r.output).toBe(0);
      console.log(`${name}.joblib import on the onnx runtime (${command[0]}): ${r.seconds.toFixed(0)} s`);
      const model = JSON.parse(read(onnxProject, 'model/schema.json')).model;
      expect(model).toMatchObject({ runtime: 'onnx', onnx: { artifact: 'model.onnx', parity: { rows: 60 } } });
      console.log(`${name}: in-process parity on 60 rows: largest difference ${model.onnx.parity.largestDifference}`);
      const dev = read(onnxProject, 'requirements-dev.txt');
      expect(dev).toMatch(library);
      expect(dev).toMatch(/^scikit-learn==1\.7\.2$/m);
      expect(dev).toMatch(/^onnxmltools==/m);
      expect(read(onnxProject, 'requirements.txt')).toBe(servingPins);
      const difference = largestOnnxDifference(await served(onnxProject, holdoutRows(zoo)), expected[name]!);
      console.log(`${name} on onnx: served vs notebook on 60 held-out rows: largest difference ${difference}`);
      expect(difference).toBeLessThanOrEqual(1e-5);
    }
    expect(run('make', ['--no-print-directory', '-q', 'venv'], onnxProject).status).toBe(0);
  }, 1_800_000);
});
