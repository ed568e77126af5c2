// The generated README's recipe for a derived feature ("Customising the service", "A derived feature"), followed
// literally on a CSV project of our own: its features.py code block (with our two columns in place of `a` and `b`, as
// it says), its commands, then serving and predicting as its "From zero" section does. The data is made so that the
// price is the area per room: a ridge regression cannot learn that from the raw columns, and learns it exactly once
// the ratio is a column, so the held-out score and the predictions show whether the model really uses it. Then a
// notebook pipeline with the same derive() goes through `make import` the way the README says.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openProject, prepareProject, startGunicorn, type PreparedProject } from '../harness/index.mjs';

/** A small seeded PRNG (mulberry32): the same CSV on every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PER_M2 = 1000; // the price of a square metre per room: price = PER_M2 * area / rooms (+ a little district and noise)
const DISTRICT = { north: 0, south: -500, east: 800, west: 300 } as const;

function flatsCsv(rows = 240): string {
  const random = prng(20261122);
  const lines = ['area_m2,rooms,district,price'];
  for (let i = 0; i < rows; i++) {
    const area = Math.round((30 + 170 * random()) * 10) / 10;
    const rooms = 1 + Math.floor(random() * 6);
    const district = (Object.keys(DISTRICT) as Array<keyof typeof DISTRICT>)[Math.floor(random() * 4)]!;
    const price = Math.round(PER_M2 * (area / rooms) * (1 + 0.01 * (random() - 0.5)) + DISTRICT[district]);
    // A few rows without a district: imputed, as the pipeline does with any missing value.
    lines.push(`${area},${rooms},${i % 17 === 5 ? '' : district},${price}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The section of the README between two headings. */
function section(readme: string, from: string, to: string): string {
  const start = readme.indexOf(from);
  const end = readme.indexOf(to, start);
  expect(start, from).toBeGreaterThanOrEqual(0);
  expect(end, to).toBeGreaterThan(start);
  return readme.slice(start, end);
}

/** The fenced code blocks of a given language, dedented (the recipe's blocks sit in a numbered list). */
function codeBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp(`^( *)\`\`\`${language}\\n([\\s\\S]*?)^\\1\`\`\`$`, 'gm'))].map(
    ([, indent, body]) =>
      body!
        .split('\n')
        .map((line) => line.slice(indent!.length))
        .join('\n'),
  );
}

const heldOutR2 = (output: string) =>
  Number(/held-out score on \d+ rows \(\d+ trained\): r2 (-?[\d.]+)/.exec(output)?.[1]);

describe("the README's derived-feature recipe, followed literally on a CSV project", () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-recipe-'));
  const logDir = path.join(work, 'logs');
  let prepared: PreparedProject;
  let dir = '';
  // PYTHONPATH: the project folder, as a notebook started in it has on its path.
  const run = (command: string, args: string[]) =>
    spawnSync(command, args, {
      cwd: dir,
      encoding: 'utf8',
      timeout: 900_000,
      env: { ...process.env, PYTHONPATH: dir },
    });
  const make = (...args: string[]) => {
    const r = run('make', ['--no-print-directory', `VENV=${prepared.venv}`, ...args]);
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };
  // Two flats with the same area per room (30 m2), and one with another: the price follows the ratio.
  const flats = [
    { area_m2: 120, rooms: 4, district: 'north' },
    { area_m2: 60, rooms: 2, district: 'north' },
    { area_m2: 150, rooms: 2, district: 'north' },
  ];
  /** Served as `make serve` serves it (the Procfile's command), asked the way the README's curl asks. */
  async function servedPredictions(): Promise<{ curl: Record<string, unknown>; flats: number[] }> {
    const gunicorn = await startGunicorn(openProject(dir), {
      venv: prepared.venv,
      logDir,
      label: `recipe-${Date.now()}`,
    });
    try {
      // The README's own curl command, as written (it reads model/schema.json with .venv/bin/python).
      const curl = codeBlocks(section(readme(), '## From zero to a running service', '## Deploying'), 'sh')
        .flatMap((block) => block.split(/\n(?=curl )/))
        .find((command) => command.includes('/v1/predict'));
      expect(curl).toBeDefined();
      const answer = JSON.parse(execFileSync('sh', ['-c', curl!], { cwd: dir, encoding: 'utf8' }));
      const response = await fetch(`${gunicorn.url}/v1/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: flats }),
      });
      expect(response.status).toBe(200);
      return { curl: answer, flats: ((await response.json()) as { predictions: number[] }).predictions };
    } finally {
      await gunicorn.stop();
    }
  }
  const readme = () => readFileSync(path.join(dir, 'README.md'), 'utf8');
  let before: { r2: number; predictions: number[]; schema: string };

  beforeAll(async () => {
    writeFileSync(path.join(work, 'flats.csv'), flatsCsv());
    prepared = prepareProject({
      parent: work,
      name: 'flats',
      args: ['--yes', '--dataset', 'csv', '--csv', path.join(work, 'flats.csv'), '--target', 'price', '--task'].concat([
        'regression',
        '--estimator',
        'ridge',
      ]),
      train: false,
    });
    dir = prepared.dir;
    // The README's commands use .venv (make venv would make it): the shared venv of the same requirements.
    symlinkSync(prepared.venv, path.join(dir, '.venv'));
    const trained = make('train');
    expect(trained.status, trained.output).toBe(0);
    const served = await servedPredictions();
    before = {
      r2: heldOutR2(trained.output),
      predictions: served.flats,
      schema: readFileSync(path.join(dir, 'model/schema.json'), 'utf8'),
    };
  }, 900_000);

  it('before the recipe: the raw columns cannot express the area per room', () => {
    expect(before.r2).toBeLessThan(0.9);
    const [a, b] = before.predictions;
    expect(Math.abs(a! - b!) / b!).toBeGreaterThan(0.1); // the same ratio, far apart
  });

  it('step 1 and 2: features.py as the README writes it, then its commands: the score jumps and every test passes', () => {
    const recipe = section(readme(), '### A derived feature', '### The hooks');
    expect(recipe).toMatch(/two number columns `a` and `b`.*in place of `a` and `b`/s);
    const [code] = codeBlocks(recipe, 'python');
    expect(code).toMatch(/^def derive\(frame\):\n/);
    // Our columns in place of a and b, as the README says; nothing else changes.
    const ours = code!
      .replace(/\ba_per_b\b/g, 'area_m2_per_rooms')
      .replace(/frame\["a"\]/g, 'frame["area_m2"]')
      .replace(/frame\["b"\]/g, 'frame["rooms"]');
    expect(ours).not.toMatch(/"a"|"b"/);
    const features = readFileSync(path.join(dir, 'features.py'), 'utf8');
    const at = features.indexOf('def derive(frame):');
    expect(at).toBeGreaterThan(0);
    writeFileSync(path.join(dir, 'features.py'), features.slice(0, at) + ours);

    const [commands] = codeBlocks(recipe, 'sh');
    const targets = commands!
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean);
    expect(targets).toEqual(['make train', 'make test']);
    const [train, test] = targets.map((command) => make(...command.split(' ').slice(1)));
    expect(train!.status, train!.output).toBe(0);
    expect(train!.output).toMatch(/features\.derive: the model also gets area_m2_per_rooms/);
    expect(heldOutR2(train!.output)).toBeGreaterThan(0.99);
    expect(test!.status, test!.output).toBe(0);
    expect(test!.output).toMatch(/\d+ passed/);
    expect(test!.output).not.toMatch(/failed|error|skipped/i);

    // Requests keep the raw columns; the model records the code it was trained with.
    const schema = JSON.parse(readFileSync(path.join(dir, 'model/schema.json'), 'utf8'));
    expect(schema.features).toEqual(JSON.parse(before.schema).features);
    expect(Object.keys(schema.model.ownCode)).toEqual(['features']);
    expect(schema.model.trustedTypes).toContain('features.derive');
  });

  it('step 3: served as before, the predictions follow the area per room', async () => {
    const served = await servedPredictions();
    expect(served.curl).toMatchObject({ predictions: [expect.any(Number)] });
    const [a, b, c] = served.flats as [number, number, number];
    expect(Math.abs(a - b) / b).toBeLessThan(0.02); // the same ratio, the same price
    expect(a).toBeGreaterThan(PER_M2 * 30 * 0.97);
    expect(a).toBeLessThan(PER_M2 * 30 * 1.03);
    expect(c / a).toBeGreaterThan(2.4); // 75 m2 per room against 30
  }, 900_000); // the port-8000 lock may be held by another suite for a while

  it('a change to features.py without make train: the service refuses to start, saying what to run', () => {
    const features = readFileSync(path.join(dir, 'features.py'), 'utf8');
    writeFileSync(path.join(dir, 'features.py'), `${features}\n# tuned\n`);
    try {
      const test = make('test');
      expect(test.status).not.toBe(0);
      expect(test.output).toMatch(/features\.py has changed since the model was trained with it.*make train/);
      // One reason, said where the app starts (the contract suite, your tests): not an error in every test.
      expect(Number(/(\d+) errors? in /.exec(test.output)?.[1])).toBeLessThanOrEqual(2);
    } finally {
      writeFileSync(path.join(dir, 'features.py'), features);
    }
  });

  it('a notebook pipeline with the same derive() imports as the README says, and passes make test', () => {
    const notebook = path.join(work, 'notebook.py');
    writeFileSync(
      notebook,
      [
        'import sys',
        'import numpy as np',
        'import pandas as pd',
        'import skops.io as sio',
        'from sklearn.compose import ColumnTransformer',
        'from sklearn.impute import SimpleImputer',
        'from sklearn.linear_model import Ridge',
        'from sklearn.pipeline import Pipeline',
        'from sklearn.preprocessing import FunctionTransformer, OneHotEncoder',
        'from features import derive',
        'data = pd.read_csv("data/flats.csv")',
        'y = data.pop("price")',
        'big = float(np.finfo(np.float32).max)',
        'numbers = Pipeline([("finite", FunctionTransformer(np.clip, kw_args={"a_min": -big, "a_max": big})),',
        '                    ("impute", SimpleImputer(strategy="median"))])',
        'prep = ColumnTransformer([("n", numbers, ["area_m2", "rooms", "area_m2_per_rooms"]),',
        '                          ("c", OneHotEncoder(handle_unknown="ignore"), ["district"])])',
        'model = Pipeline([("derive", FunctionTransformer(derive)), ("prep", prep), ("model", Ridge())])',
        'sio.dump(model.fit(data, y), sys.argv[1])',
      ].join('\n'),
    );
    const saved = path.join(work, 'notebook.skops');
    const fitted = run(path.join(prepared.venv, 'bin', 'python'), [notebook, saved]);
    expect(fitted.status, fitted.stderr).toBe(0);
    const untrusted = run(path.join(prepared.venv, 'bin', 'python'), [
      '-c',
      `import skops.io as sio; print(" ".join(sio.get_untrusted_types(file=${JSON.stringify(saved)})))`,
    ]).stdout.trim();
    expect(untrusted.split(' ')).toContain('features.derive');
    const flags = untrusted
      .split(' ')
      .map((t) => `--trust-type ${t}`)
      .join(' ');
    const imported = make('import', `MODEL=${saved}`, 'SAMPLE=data/flats.csv', 'TARGET=price', `IMPORT_FLAGS=${flags}`);
    expect(imported.status, imported.output).toBe(0);
    const schema = JSON.parse(readFileSync(path.join(dir, 'model/schema.json'), 'utf8'));
    expect(schema.model.source).toBe('import');
    expect(Object.keys(schema.model.ownCode)).toEqual(['features']);
    const test = make('test');
    expect(test.status, test.output).toBe(0);
    expect(test.output).not.toMatch(/failed|error|skipped/i);
  }, 600_000);
});
