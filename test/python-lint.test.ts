// The Python a user receives is clean by ruff's measure (lint and format), with the project's own ruff.toml and the
// ruff its requirements-dev.txt pins, across the answers that change what the templates render.
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from './generate.js';
import { pinnedRuff } from '../harness/index.mjs';
import { FIXTURES } from './helpers.js';

const withHouses = (dir: string) => copyFileSync(path.join(FIXTURES, 'houses.csv'), path.join(dir, 'houses.csv'));

const MATRIX: Array<[string, Record<string, unknown>, ((dir: string) => void)?]> = [
  ['the defaults', {}],
  ['regression: ridge on diabetes', { task: 'regression', estimator: 'ridge', dataset: 'diabetes' }],
  [
    'logistic regression on wine, Python 3.13, single instance',
    {
      estimator: 'logistic_regression',
      dataset: 'wine',
      'python-version': '3.13',
      'environment-type': 'single-instance',
    },
  ],
  [
    'a CSV with categories, gradient boosting, joblib',
    {
      dataset: 'csv',
      csv: 'houses.csv',
      target: 'price_band',
      estimator: 'gradient_boosting',
      'model-format': 'joblib',
    },
    withHouses,
  ],
  [
    'regression on a CSV',
    { task: 'regression', dataset: 'csv', csv: 'houses.csv', target: 'area_m2', estimator: 'random_forest' },
    withHouses,
  ],
  ['with the gateway and another health path', { gateway: true, 'health-check-path': '/ping' }],
  ['the legacy platform (Python 3.6, mod_wsgi)', { platform: 'amazon-linux-ami', dataset: 'breast_cancer' }],
  ['the onnx runtime', { runtime: 'onnx' }],
  [
    'the onnx runtime on a CSV with categories, Python 3.14',
    { runtime: 'onnx', dataset: 'csv', csv: 'houses.csv', target: 'price_band', 'python-version': '3.14' },
    withHouses,
  ],
];

describe('generated Python passes ruff', () => {
  let ruff: string;
  beforeAll(() => {
    ruff = pinnedRuff();
  });

  for (const [label, options, prepare] of MATRIX) {
    it(label, async () => {
      const { dir } = await generate(options, 'linted', prepare);
      const run = (args: string[]) => {
        const r = spawnSync(ruff, [...args, '--no-cache'], { cwd: dir, encoding: 'utf8' });
        return { status: r.status, output: `${r.stdout}${r.stderr}` };
      };
      const lint = run(['check', '--output-format', 'concise', '.']);
      expect(lint.status, lint.output).toBe(0);
      const format = run(['format', '--check', '--diff', '.']);
      expect(format.status, format.output).toBe(0);
      // ruff reads the project's settings, not a default it happened to find.
      expect(run(['check', '--show-settings', 'train.py']).output).toContain(
        `Settings path: "${path.join(dir, 'ruff.toml')}"`,
      );
    });
  }
});
