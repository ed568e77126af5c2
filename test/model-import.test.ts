// The generator's side of `--model`: the importer's arguments, what is checked without Python, and the preflight's
// command line (the Python it runs is tested in service/tests/unit/test_importer_preflight.py).
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMPLATES_DIR } from '../src/lib/file-specs.js';
import { importArgs, modelSourceProblems, preflightCommand, SERVICE_DIR } from '../src/lib/model-import.js';

describe('sci-eb app --model', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'model-import-'));
  writeFileSync(path.join(dir, 'model.skops'), 'PK');

  it('passes every option to the importer, paths made absolute (it runs in the project)', () => {
    expect(
      importArgs(
        {
          model: 'model.skops',
          sample: 'rows.csv',
          target: 'decision',
          trustPickle: true,
          trustTypes: ['a.B', 'c.D'],
          trustMlflowTypes: true,
          code: ['features.py', 'src'],
        },
        dir,
      ),
    ).toEqual([
      path.join(dir, 'model.skops'),
      '--sample',
      path.join(dir, 'rows.csv'),
      '--target',
      'decision',
      '--trust-pickle',
      '--trust-type',
      'a.B',
      '--trust-type',
      'c.D',
      '--trust-mlflow-types',
      '--code',
      path.join(dir, 'features.py'),
      '--code',
      path.join(dir, 'src'),
    ]);
  });

  it('names each path that does not exist; a sample is not required here (an MLflow example may stand in)', () => {
    expect(modelSourceProblems({ model: 'model.skops' }, dir)).toEqual([]);
    expect(modelSourceProblems({ model: 'nope.skops', sample: 'rows.csv', code: ['features.py'] }, dir)).toEqual([
      '--model: nope.skops does not exist; give the path of your saved model',
      '--sample: rows.csv does not exist',
      "--code: features.py does not exist; give your module's .py file or its folder",
    ]);
  });

  it("runs the importer's preflight from the generator's own service/ with the project's Python, wheels and pins", () => {
    const requirements = path.join(TEMPLATES_DIR, 'pins', 'al2023.txt');
    const { command, args, cwd } = preflightCommand(
      { model: 'model.skops', trustMlflowTypes: true },
      { pythonVersion: '3.12', architecture: 'arm64', runtime: 'sklearn', requirements },
      dir,
      'python3',
    );
    expect(command).toBe('python3');
    expect(cwd).toBe(SERVICE_DIR);
    expect(args.slice(0, 3)).toEqual(['-B', '-m', 'tools.importer.preflight']);
    expect(args).toEqual(
      expect.arrayContaining([path.join(dir, 'model.skops'), '--trust-mlflow-types', '--json', '--requirements']),
    );
    const option = (name: string) => args[args.indexOf(name) + 1];
    expect([option('--python'), option('--arch'), option('--runtime')]).toEqual(['3.12', 'aarch64', 'sklearn']);
    expect(option('--sklearn')).toMatch(/^\d+\.\d+\.\d+$/); // the scikit-learn the project will pin
  });
});
