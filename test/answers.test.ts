import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ANSWER_RECORDS,
  answerProblems,
  answerRecord,
  defaultAnswers,
  featureTypePairs,
  forgetUnusedCsv,
  formatProblems,
  resolveAnswers,
  validateAnswer,
} from '../src/lib/answers.js';
import { importArgs } from '../src/lib/model-import.js';
import { nearest } from '../src/lib/nearest.js';
import { templateData } from '../src/lib/plan.js';

const problemsOf = (given: Record<string, unknown>) => {
  const r = resolveAnswers(given);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
};

describe('answers', () => {
  it('defaults alone are a valid al2023 iris random forest project', () => {
    const r = resolveAnswers({});
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.answers).toMatchObject({
        platform: 'al2023',
        pythonVersion: '3.11',
        architecture: 'x86_64',
        instanceType: 't3.small',
        dataset: 'iris',
        estimator: 'random_forest',
        envName: 'sci-eb-model-env',
      });
    }
  });

  it('derives defaults from the answers given: arm64 gets a Graviton type, legacy gets Python 3.6 and t2.small, diabetes gets regression', () => {
    expect(defaultAnswers({ architecture: 'arm64' }).instanceType).toBe('t4g.small');
    expect(defaultAnswers({ platform: 'amazon-linux-ami' })).toMatchObject({
      pythonVersion: '3.6',
      instanceType: 't2.small',
    });
    expect(defaultAnswers({ dataset: 'diabetes' }).task).toBe('regression');
    expect(defaultAnswers({ name: 'a-very-long-project-name-that-goes-on-and-on' }).envName.length).toBeLessThanOrEqual(
      40,
    );
  });

  it('coerces option strings: numbers, booleans, python versions', () => {
    const r = resolveAnswers({
      workers: '3',
      gateway: 'yes',
      minInstances: '2',
      maxInstances: '6',
      pythonVersion: 3.12,
    });
    expect(r.ok && r.answers).toMatchObject({
      workers: 3,
      gateway: true,
      minInstances: 2,
      maxInstances: 6,
      pythonVersion: '3.12',
    });
  });

  const rules: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['EB environment name too short', { envName: 'ab' }, 'env-name', /4 to 40/],
    ['EB environment name with a trailing hyphen', { envName: 'my-env-' }, 'env-name', /hyphen/],
    ['EB environment name with an underscore', { envName: 'my_env' }, 'env-name', /letters, digits or hyphens/],
    ['EB application name with a slash', { appName: 'team/model' }, 'app-name', /"\/"/],
    ['EB application name over 100 characters', { appName: 'x'.repeat(101) }, 'app-name', /100/],
    ['unknown region', { region: 'us-east-9' }, 'region', /AWS region/],
    ['Python version the platform lacks', { pythonVersion: '3.9' }, 'python-version', /3\.11, 3\.12, 3\.13/],
    [
      'Python 3.11 on the legacy platform',
      { platform: 'amazon-linux-ami', pythonVersion: '3.11' },
      'python-version',
      /3\.6/,
    ],
    [
      'arm64 on the legacy platform',
      { platform: 'amazon-linux-ami', architecture: 'arm64', instanceType: 't4g.small' },
      'architecture',
      /not available/,
    ],
    ['x86 instance type for arm64', { architecture: 'arm64', instanceType: 't3.small' }, 'instance-type', /Graviton/],
    ['Graviton instance type for x86_64', { instanceType: 'm7g.large' }, 'instance-type', /arm64 instance type/],
    ['not an instance type', { instanceType: 'large' }, 'instance-type', /t3\.small/],
    ['min above max instances', { minInstances: 5, maxInstances: 2 }, 'max-instances', /at least/],
    ['scale-down above scale-up', { scaleUpThreshold: 40, scaleDownThreshold: 60 }, 'scale-down-threshold', /below/],
    ['CPU threshold above 100', { scaleUpThreshold: 150 }, 'scale-up-threshold', /100/],
    ['regression estimator for classification', { estimator: 'ridge' }, 'estimator', /not a classification estimator/],
    [
      'regression on a classification dataset',
      { task: 'regression', dataset: 'iris', estimator: 'ridge' },
      'task',
      /^regression is not what the iris dataset is for \(for regression, use --dataset diabetes or csv\): use one of classification$/,
    ],
    ['csv without a path or target', { dataset: 'csv' }, 'csv', /required/],
    [
      'a CSV given with a bundled dataset (it would sit unused)',
      { dataset: 'iris', csvPath: 'churn.csv', targetColumn: 'churned' },
      'csv',
      /^is for your own CSV, but --dataset is iris: leave out --csv to train on iris, or give --dataset csv$/,
    ],
    ['a target column with a bundled dataset', { dataset: 'wine', targetColumn: 'y' }, 'target', /--dataset is wine/],
    ['csv file that is not .csv', { dataset: 'csv', csvPath: 'data.xlsx', targetColumn: 'y' }, 'csv', /\.csv/],
    ['health check under /v1/', { healthCheckPath: '/v1/health' }, 'health-check-path', /\/v1\//],
    ['health check without a slash', { healthCheckPath: 'health' }, 'health-check-path', /starting with/],
    ['zero workers', { workers: 0 }, 'workers', /./],
    ['project name with capitals', { name: 'MyModel' }, 'name', /lowercase/],
    ['unknown answer', { colour: 'blue' }, 'colour', /not an answer/],
    [
      'the onnx runtime on the legacy platform',
      { platform: 'amazon-linux-ami', runtime: 'onnx' },
      'runtime',
      /^onnx is not available on amazon-linux-ami, whose Python 3\.6 has no wheels of the onnxruntime .*use --platform al2023 for onnx\): use one of sklearn$/,
    ],
    [
      'an unknown runtime',
      { runtime: 'tensorrt' },
      'runtime',
      /^tensorrt is not available on the al2023 platform: use one of sklearn, onnx$/,
    ],
  ];
  for (const [what, given, option, message] of rules) {
    it(`rejects ${what}, naming --${option}`, () => {
      const problems = problemsOf(given);
      expect(problems.map((p) => p.option)).toContain(option);
      expect(problems.find((p) => p.option === option)!.message).toMatch(message);
    });
  }

  it('reports every problem at once, each with the option that fixes it', () => {
    const problems = problemsOf({ envName: 'x', region: 'mars-1', workers: 99, estimator: 'ridge' });
    expect(problems.map((p) => p.option).sort()).toEqual(['env-name', 'estimator', 'region', 'workers']);
    const text = formatProblems(problems);
    expect(text).toMatch(/4 problems; nothing was written/);
    expect(text).toMatch(/--env-name: /);
  });

  it('validates one answer for a prompt, in the context of the answers given so far', () => {
    expect(validateAnswer('envName', 'good-env')).toBe(true);
    expect(validateAnswer('envName', '-bad')).toMatch(/hyphen/);
    expect(validateAnswer('workers', '4')).toBe(true);
    expect(validateAnswer('estimator', 'ridge', { task: 'regression' })).toBe(true);
    expect(validateAnswer('estimator', 'ridge', { task: 'classification' })).toMatch(/not a classification estimator/);
    expect(validateAnswer('maxInstances', 2, { minInstances: 3 })).toMatch(/at least --min-instances \(3\)/);
  });

  it('a wrong estimator is answered with the estimators of the task only, and the nearest one', () => {
    const [svm] = problemsOf({ estimator: 'svm' });
    expect(svm!.message).toBe(
      'svm is not a classification estimator: use one of logistic_regression, random_forest, gradient_boosting',
    );
    const [typo] = problemsOf({ task: 'regression', estimator: 'rigde' });
    expect(typo!.message).toBe(
      'rigde is not a regression estimator: use one of ridge, random_forest, gradient_boosting (did you mean ridge?)',
    );
  });

  it("one problem per bad answer, in words: never zod's own text", () => {
    expect(problemsOf({ name: 'a' })).toEqual([
      { key: 'name', option: 'name', message: expect.stringMatching(/^must be 2 to 40 lowercase/) },
    ]);
    expect(problemsOf({ workers: 0 })[0]!.message).toBe('must be a whole number from 1 to 32');
    const bad: Record<string, unknown[]> = {
      name: ['a', 'A', 5, ''],
      appName: ['', 7],
      envName: ['x', 3],
      region: ['moon-1', 1],
      platform: ['windows', true],
      pythonVersion: ['2.7', {}],
      architecture: ['sparc'],
      instanceType: ['large', 3],
      environmentType: ['cluster'],
      minInstances: [0, 'many', 1.5, 500],
      maxInstances: [-1, 'x'],
      scalingMetric: ['Vibes'],
      scaleUpThreshold: [-5, 'x'],
      scaleDownThreshold: [-1, 'x'],
      task: ['clustering'],
      estimator: ['svm', 3],
      dataset: ['mnist'],
      gateway: ['maybe', 3],
      healthCheckPath: ['health', 5],
      workers: [0, 33, 'x', 2.5],
      runtime: ['ort', 1],
    };
    for (const [key, list] of Object.entries(bad)) {
      for (const value of list) {
        const problems = problemsOf({ [key]: value }).filter((p) => p.key === key);
        expect(problems, `${key}=${JSON.stringify(value)}`).toHaveLength(1);
        expect(problems[0]!.message, `${key}=${JSON.stringify(value)}`).not.toMatch(
          /expected|received|Invalid input|Too (small|big)|Invalid option/i,
        );
      }
    }
  });

  it('feature types: NAME=TYPE pairs from options (one or repeated) or an answers file object, checked, rendered and passed to the importer', () => {
    const given = (featureTypes: unknown) =>
      resolveAnswers({ dataset: 'csv', csvPath: 'a.csv', targetColumn: 'y', featureTypes });
    for (const value of [
      'review=text, joined=date',
      ['review=text', 'joined=date'],
      { review: 'text', joined: 'date' },
    ]) {
      const resolution = given(value);
      expect(resolution.ok, JSON.stringify(value)).toBe(true);
      if (resolution.ok) expect(resolution.answers.featureTypes).toBe('review=text,joined=date');
    }
    expect(featureTypePairs('a=b=category,c=text')).toEqual([
      ['a=b', 'category'],
      ['c', 'text'],
    ]);
    for (const bad of ['review', 'review=free', '=text', 'review=text,x']) {
      const resolution = given(bad);
      expect(resolution.ok, bad).toBe(false);
      if (!resolution.ok)
        expect(resolution.problems).toEqual([
          {
            key: 'featureTypes',
            option: 'feature-type',
            message:
              'must be NAME=TYPE pairs separated by commas, TYPE one of: number, integer, category, text, boolean, date, datetime',
          },
        ]);
    }
    const resolution = given('review=text');
    if (!resolution.ok) throw new Error('valid answers');
    expect(templateData(resolution.answers, '0').featureTypesPython).toBe('{"review": "text"}');
    expect(templateData(defaultAnswers({}), '0').featureTypesPython).toBe('{}');
    expect(importArgs({ model: '/m.skops', featureTypes: featureTypePairs('review=text,n=number') }, '/')).toEqual([
      '/m.skops',
      '--feature-type',
      'review=text',
      '--feature-type',
      'n=number',
    ]);
  });

  it('asks in the order a person thinks: the data, what to predict from it and how, where it runs, how it scales', () => {
    const order = ANSWER_RECORDS.map((r) => r.key);
    const at = (k: string) => order.indexOf(k as never);
    expect(order.slice(0, 6)).toEqual(['name', 'dataset', 'csvPath', 'targetColumn', 'task', 'estimator']);
    expect(at('estimator')).toBeLessThan(at('region'));
    expect(at('region')).toBeLessThan(at('platform'));
    for (const scaling of [
      'environmentType',
      'minInstances',
      'maxInstances',
      'scalingMetric',
      'scaleUpThreshold',
      'scaleDownThreshold',
    ])
      expect(at('instanceType')).toBeLessThan(at(scaling));
    expect(answerRecord('task').question).toMatch(/^What should the model predict\?$/);
    for (const r of ANSWER_RECORDS) expect(r.question, r.key).not.toMatch(/^(classification|regression) or/);
  });

  it('the choices fit the answers given so far: the task of the data, estimators of the task, Pythons of the platform', () => {
    const choices = (key: 'task' | 'estimator' | 'pythonVersion' | 'architecture', given: Record<string, unknown>) =>
      answerRecord(key).choices!(defaultAnswers(given)).map((c) => c.value);
    expect(choices('task', { dataset: 'wine' })).toEqual(['classification']);
    expect(choices('task', { dataset: 'diabetes' })).toEqual(['regression']);
    expect(choices('task', { dataset: 'csv' })).toEqual(['classification', 'regression']);
    // a bundled dataset decides the task: it is asked only about the user's CSV
    expect(answerRecord('task').when!(defaultAnswers({ dataset: 'iris' }))).toBe(false);
    expect(answerRecord('task').when!(defaultAnswers({ dataset: 'csv' }))).toBe(true);
    expect(choices('estimator', { task: 'classification' })).not.toContain('ridge');
    expect(choices('estimator', { task: 'regression' })).not.toContain('logistic_regression');
    expect(choices('pythonVersion', { platform: 'amazon-linux-ami' })).toEqual(['3.6']);
    expect(choices('architecture', { platform: 'amazon-linux-ami' })).toEqual(['x86_64']);
  });

  it('a CSV or target given means the CSV: it is trained on, never left unused beside iris', () => {
    expect(defaultAnswers({ csvPath: 'churn.csv', targetColumn: 'churned' }).dataset).toBe('csv');
    expect(defaultAnswers({ targetColumn: 'churned' }).dataset).toBe('csv');
    expect(defaultAnswers({ task: 'regression' }).dataset).toBe('diabetes');
    const r = resolveAnswers({ csvPath: 'churn.csv', targetColumn: 'churned', task: 'classification' });
    expect(r.ok && r.answers).toMatchObject({ dataset: 'csv', csvPath: 'churn.csv', targetColumn: 'churned' });
    // stored answers of a project that kept an unused CSV drop it (upgrades and re-runs resolve again)
    expect(forgetUnusedCsv({ dataset: 'iris', csvPath: 'churn.csv', targetColumn: 'churned', workers: 2 })).toEqual({
      dataset: 'iris',
      workers: 2,
    });
    expect(forgetUnusedCsv({ dataset: 'csv', csvPath: 'a.csv' })).toEqual({ dataset: 'csv', csvPath: 'a.csv' });
  });

  it('checks the disk where the answer is given: the CSV exists and parses, the target is one of its columns', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'answers-csv-'));
    writeFileSync(path.join(dir, 'churn.csv'), 'tenure,plan,churned\n1,basic,no\n');
    writeFileSync(path.join(dir, 'empty.csv'), '');
    writeFileSync(path.join(dir, 'one.csv'), 'churned\nno\n');
    const cwd = { cwd: dir };
    expect(resolveAnswers({ csvPath: 'churn.csv', targetColumn: 'churned' }, cwd).ok).toBe(true);
    const message = (given: Record<string, unknown>, key: string) =>
      (resolveAnswers(given, cwd) as { problems: Array<{ key: string; message: string }> }).problems.find(
        (p) => p.key === key,
      )?.message;
    expect(message({ csvPath: 'missing.csv', targetColumn: 'y' }, 'csvPath')).toBe(
      `missing.csv does not exist (looked in ${dir}): give the path of your CSV file`,
    );
    expect(message({ csvPath: 'empty.csv', targetColumn: 'y' }, 'csvPath')).toMatch(/^empty\.csv: the file is empty/);
    expect(message({ csvPath: 'one.csv', targetColumn: 'churned' }, 'csvPath')).toMatch(/at least one feature/);
    expect(message({ csvPath: 'churn.csv', targetColumn: 'chruned' }, 'targetColumn')).toBe(
      'churn.csv has no column "chruned"; its columns are: tenure, plan, churned (did you mean churned?)',
    );
    // Without a cwd (an upgrade, where the CSV may be long gone) the disk is not looked at.
    expect(resolveAnswers({ csvPath: 'missing.csv', targetColumn: 'y' }).ok).toBe(true);
    // A prompt sees the same check, and the target's prompt is offered the columns.
    expect(validateAnswer('csvPath', 'missing.csv', { dataset: 'csv' }, cwd)).toMatch(/does not exist/);
    expect(validateAnswer('targetColumn', 'plan', { csvPath: 'churn.csv' }, cwd)).toBe(true);
    expect(
      answerRecord('targetColumn').promptChoices!(defaultAnswers({ csvPath: 'churn.csv' }), dir)!.map((c) => c.value),
    ).toEqual(['tenure', 'plan', 'churned']);
    // Typed at a prompt: quotes from a drag and drop and a ~ no shell expanded
    expect(resolveAnswers({ csvPath: `'${path.join(dir, 'churn.csv')}'`, targetColumn: 'plan' }, cwd).ok).toBe(true);
    expect(defaultAnswers({ csvPath: '~/data.csv' }).csvPath).toBe(path.join(os.homedir(), 'data.csv'));
    // Each given answer on its own, before any question: what no later answer could fix
    expect(answerProblems({ csvPath: 'missing.csv', workers: '0', instanceType: 't4g.small' }, cwd)).toEqual([
      { key: 'csvPath', option: 'csv', message: expect.stringMatching(/missing\.csv does not exist/) },
      { key: 'workers', option: 'workers', message: 'must be a whole number from 1 to 32' },
    ]);
  });

  it('an answers file with a misspelt or option-named key says which answer was meant', () => {
    expect(problemsOf({ estimatr: 'ridge' })[0]!.message).toMatch(
      /^is not an answer this generator knows \(did you mean estimator\?\)/,
    );
    expect(problemsOf({ 'python-version': '3.12' })[0]!.message).toBe(
      "is the option's name: the answer is called pythonVersion",
    );
  });

  it('suggests the nearest known word for a typo, and nothing for a guess', () => {
    expect(nearest('estimatr', ['estimator', 'dataset'])).toBe('estimator');
    expect(nearest('platfrom', ['platform', 'python-version'])).toBe('platform');
    expect(nearest('colour', ['estimator', 'dataset'])).toBeUndefined();
  });
});
