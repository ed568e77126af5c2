// A project whose model has free text, a boolean, a date and a date-time, an integer-coded category, an integer count
// and integer labels, for real:
// the model is fitted in the project's venv the way a notebook fits it (test/fixtures/typed/make_typed_model.py),
// imported with `sci-eb model import` (and its options checked through `sci-eb app --model ... --feature-type`),
// served by gunicorn as the Procfile says and by the generated gateway in front of it. Then: the service answers
// the notebook's own predictions with integer labels, the gateway answers the same (also micro-batched), both
// servers answer every mistake in a typed value byte for byte alike, /openapi.json and the client's types state the
// types, and a schema-driven fuzzer (schemathesis, pinned in test/fixtures/schemathesis) finds nothing against either
// server: what the document calls valid both accept, what it calls invalid both refuse, every answer as documented.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, LAUNCHER } from './helpers.js';
import {
  openProject,
  sharedVenv,
  startGateway,
  startGunicorn,
  type Gateway,
  type Gunicorn,
} from '../harness/index.mjs';

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 900_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

interface Expected {
  rows: Array<Record<string, unknown>>;
  predictions: number[];
  probabilities: number[][];
}

const post = async (base: string, body: string, requestId: string) => {
  const r = await fetch(`${base}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body,
  });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
};

describe('a model with text, boolean, date and integer-coded features and integer labels, served and gated', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-typed-'));
  const project = path.join(work, 'churn');
  const notebook = path.join(work, 'notebook');
  const logDir = path.join(work, 'logs');
  let venv = '';
  let expected: Expected;
  let flask: Gunicorn | undefined;
  let gateway: Gateway | undefined;
  const flaskUrl = 'http://127.0.0.1:8000';
  const importArgs = () => [
    path.join(notebook, 'model.joblib'),
    '--sample',
    path.join(notebook, 'sample.csv'),
    '--target',
    'churned',
    '--trust-pickle',
  ];

  beforeAll(async () => {
    const made = run('node', [LAUNCHER, 'app', 'churn', '--yes', '--gateway', '--skip-install'], work);
    expect(made.status, made.output).toBe(0);
    venv = sharedVenv('app', [path.join(project, 'requirements-dev.txt')]);
    const fitted = run(
      path.join(venv, 'bin', 'python'),
      [path.join(FIXTURES, 'typed', 'make_typed_model.py'), notebook],
      work,
    );
    expect(fitted.status, fitted.output).toBe(0);
    expected = JSON.parse(readFileSync(path.join(notebook, 'expected.json'), 'utf8'));
  }, 900_000);

  afterAll(async () => {
    await gateway?.stop();
    await flask?.stop();
  });

  it('sci-eb app --model passes --feature-type on to the import and keeps it in the answers', () => {
    const r = run(
      'node',
      [
        LAUNCHER,
        'app',
        'churn-app',
        '--yes',
        '--skip-install',
        '--model',
        ...importArgs(),
        '--feature-type',
        'joined=date',
      ],
      work,
    );
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/tools\/import_model\.py \S+model\.joblib .*--trust-pickle --feature-type joined=date/);
    const stored = JSON.parse(readFileSync(path.join(work, 'churn-app', '.yo-rc.json'), 'utf8'));
    expect(stored['generator-sci-eb'].answers.featureTypes).toBe('joined=date');
    // Not imported yet (--skip-install): make test, serve or deploy say to import it, never train another model.
    const pending = run('make', ['--no-print-directory', 'model/schema.json'], path.join(work, 'churn-app'));
    expect(pending.status, pending.output).toBe(2);
    expect(pending.output).toMatch(
      /made for your model; import it first: make venv && \.venv\/bin\/python tools\/import_model\.py \S+model\.joblib /,
    );
    expect(existsSync(path.join(work, 'churn-app', 'model', 'schema.json'))).toBe(false);
  });

  it('sci-eb model import types review by the model, joined by --feature-type (refused without), and proves it', () => {
    const refused = run('node', [LAUNCHER, 'model', 'import', ...importArgs()], project, { VENV: venv });
    expect(refused.status, refused.output).toBe(2);
    expect(refused.output).toMatch(
      /joined \(\d+ distinct of 160 values; they look like dates: --feature-type joined=date\)/,
    );
    const imported = run(
      'node',
      [LAUNCHER, 'model', 'import', ...importArgs(), '--feature-type', 'joined=date,last_seen=datetime'],
      project,
      {
        VENV: venv,
      },
    );
    expect(imported.status, imported.output).toBe(0);
    expect(imported.output).toContain("note: column 'review' is text (the model's TfidfVectorizer");
    expect(imported.output).toMatch(/proved on 160 sample rows: .* the same predictions and probabilities/);
    const schema = JSON.parse(readFileSync(path.join(project, 'model', 'schema.json'), 'utf8'));
    expect(schema.schemaVersion).toBe(2);
    expect(schema.features.map((f: { name: string; type: string }) => `${f.name}:${f.type}`)).toEqual([
      'review:text',
      'member:boolean',
      'joined:date',
      'last_seen:datetime',
      'grade:category',
      'spend:number',
      'visits:integer',
    ]);
    expect(schema.features[4].categories).toEqual([1, 2, 3, 4]);
    expect(schema.target).toEqual({ name: 'churned', type: 'category', classes: [0, 1], outputs: ['probabilities'] });
    // The gateway's copy of the schema, its OpenAPI document and the client's types, as `make gateway` makes them.
    const made = run('make', ['--no-print-directory', `VENV=${venv}`, 'gateway'], project);
    expect(made.status, made.output).toBe(0);
    const types = readFileSync(path.join(project, 'gateway', 'client', 'types.generated.ts'), 'utf8');
    for (const line of [
      '  review: string;',
      '  member: boolean;',
      '  joined: string;',
      '  grade: 1 | 2 | 3 | 4;',
      '  visits: number;',
    ])
      expect(types).toContain(line);
    expect(types).toContain('export type Prediction = 0 | 1;');
  }, 900_000);

  it("the project's own make test passes on the typed model: its tests and the managed contract suite", () => {
    // make deploy runs these first, so a contract test that assumes number features only would block the deploy.
    const tests = run('make', ['--no-print-directory', `VENV=${venv}`, 'test'], project);
    expect(tests.status, tests.output).toBe(0);
    expect(tests.output).toMatch(/\d+ passed/);
    expect(tests.output).not.toMatch(/failed|error/i);
  }, 600_000);

  it("the service answers the notebook's own predictions, labels as integers; the gateway the same, also batched", async () => {
    flask = await startGunicorn(openProject(project), { venv, logDir });
    gateway = await startGateway({
      cwd: path.join(project, 'gateway'),
      upstreamUrl: flaskUrl,
      env: { LOG_LEVEL: 'warn' },
      logDir,
      ready: '/health/ready',
    });
    const rows = expected.rows.slice(0, 40);
    const direct = JSON.parse((await post(flaskUrl, JSON.stringify({ instances: rows }), 'direct')).text);
    expect(direct.predictions).toEqual(expected.predictions.slice(0, 40));
    expect(direct.classes).toEqual([0, 1]);
    direct.probabilities.forEach((p: number[], i: number) => {
      for (const [j, v] of p.entries()) expect(v).toBeCloseTo(expected.probabilities[i]![j]!, 12);
    });
    const single = await Promise.all(
      rows.map(async (row, i) =>
        JSON.parse((await post(gateway!.url, JSON.stringify({ instances: [row] }), `g-${i}`)).text),
      ),
    );
    expect(single.map((a) => a.predictions[0])).toEqual(direct.predictions);
    const doc = await (await fetch(`${gateway.url}/openapi.json`)).json();
    const properties = doc.components.schemas.FeatureRow.properties;
    expect(properties.review).toMatchObject({ type: 'string', maxLength: 10000 });
    expect(properties.member).toMatchObject({ type: 'boolean' });
    expect(properties.joined).toMatchObject({ type: 'string', format: 'date' });
    expect(properties.grade).toMatchObject({ enum: [1, 2, 3, 4] });
    expect(properties.visits).toMatchObject({ type: 'integer', minimum: -(2 ** 53 - 1), maximum: 2 ** 53 - 1 });
    expect(properties.last_seen).toMatchObject({ type: 'string', 'x-feature-type': 'datetime' });
  }, 300_000);

  it('Flask and the gateway answer every mistake in a typed value alike, byte for byte', async () => {
    const row = expected.rows[0]!;
    const values: Record<string, unknown[]> = {
      review: [7, null, '', 'x'.repeat(10001), '\u{1F600}'.repeat(10000), '\u{1F600}'.repeat(10001), ['a'], true],
      member: [1, 0, 'true', 'False', null, [true], false],
      joined: ['2023-02-29', '2024-02-29', '1677-12-31', '2262-01-01', '2026-01-01T00:00:00', '01/02/2026', 20260101],
      last_seen: ['2024-02-30T00:00:00', '2024-01-01T24:00:00', '2024-01-01', '2024-01-01T10:00:00+05:30', null],
      grade: [5, 4.0, 2.5, '2', true, null, 1e300],
      spend: ['1', true, 3.5e38, null],
      visits: [2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e20, 3.0, 2.5, '3', true, 3.5e38],
    };
    const cases: Array<[string, string]> = [];
    for (const [name, list] of Object.entries(values))
      for (const value of list)
        cases.push([
          `${name}=${JSON.stringify(value)?.slice(0, 40)}`,
          JSON.stringify({ instances: [{ ...row, [name]: value }] }),
        ]);
    // several mistakes at once, over rows, and the raw texts JSON.stringify never writes
    cases.push([
      'all at once',
      JSON.stringify({ instances: [{ ...row, review: 1, member: 1, joined: 'x', grade: 9 }, row, {}] }),
    ]);
    cases.push(['grade 1e400', JSON.stringify({ instances: [row] }).replace(/"grade":\d+/, '"grade":1e400')]);
    // 2^53 + 1 as written: both parsers read 2^53, past the largest integer a double holds exactly
    cases.push([
      'visits 9007199254740993',
      JSON.stringify({ instances: [row] }).replace(/"visits":\d+/, '"visits":9007199254740993'),
    ]);
    cases.push([
      'lone surrogate text',
      JSON.stringify({ instances: [row] }).replace(/"review":"[^"]*"/, '"review":"\\ud800"'),
    ]);
    const mismatches: string[] = [];
    let problems = 0;
    for (const [i, [label, body]] of cases.entries()) {
      const [a, b] = [await post(flaskUrl, body, `typed-${i}`), await post(gateway!.url, body, `typed-${i}`)];
      if (a.status !== 200) problems++;
      if (a.status !== b.status || (a.status !== 200 && a.text !== b.text))
        mismatches.push(
          `${label}:\n  flask   ${a.status} ${a.text.slice(0, 400)}\n  gateway ${b.status} ${b.text.slice(0, 400)}`,
        );
    }
    expect(mismatches, mismatches.join('\n')).toEqual([]);
    expect(problems).toBeGreaterThan(cases.length / 2);
  }, 300_000);

  it("schemathesis finds nothing against either server, from the gateway's /openapi.json", async () => {
    const fuzzer = sharedVenv('schemathesis', [path.join(FIXTURES, 'schemathesis', 'requirements.txt')]);
    const fuzz = (target: string[]) =>
      run(
        path.join(fuzzer, 'bin', 'st'),
        [
          '--config-file',
          path.join(FIXTURES, 'schemathesis', 'schemathesis.toml'),
          'run',
          ...target,
          '--checks',
          'all',
          '--exclude-checks',
          'ignored_auth',
        ],
        work,
      ).output;
    const seeded = ['--max-examples', '150', '--seed', '20261207', '--no-color'];
    // The gateway as generated (anonymous locally, its default rate limit on): the document and every path in it.
    const gated = fuzz([`${gateway!.url}/openapi.json`, ...seeded]);
    expect(gated, gated).toMatch(/\d+ generated, \d+ passed\s*$/m);
    expect(gated).not.toMatch(/fail|error/i);
    // The service has no document of its own: the contract's paths of the gateway's (/docs, /metrics and the gateway's
    // health paths are the gateway's alone).
    const document = path.join(work, 'openapi.json');
    writeFileSync(document, await (await fetch(`${gateway!.url}/openapi.json`)).text());
    const direct = fuzz([document, '--url', flaskUrl, '--include-path-regex', '^/v1/', ...seeded]);
    expect(direct, direct).toMatch(/Selected: 2\/\d+/);
    expect(direct, direct).toMatch(/\d+ generated, \d+ passed\s*$/m);
    expect(direct).not.toMatch(/fail|error/i);
  }, 600_000);
});
