// Feature types and model kinds of schemaVersion 2 (docs/contract.md, "Feature types" and "Answers"): the gateway
// validates text, booleans, dates, date-times and integer-coded categories with the contract's codes and sentences
// (expected from the independent oracle, helpers/contract-oracle.ts), batches the answers of classifiers with
// decision scores, outlier detectors and clustering models row by row, and states all of it in /openapi.json and
// the client's types, which openapi-typescript's reading of the document must agree with both ways.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import openapiTS from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, CLUSTERS, OUTLIER, TYPED, listen, postJson, testApp } from './helpers/app.js';
import {
  expectedErrors,
  expectedProblemText,
  expectedValidation,
  oracleIsDate,
  oracleIsDatetime,
} from './helpers/contract-oracle.js';
import { expectedBody, startCountingUpstream, type CountingUpstream } from './helpers/counting-upstream.js';
import { rawRequest } from './helpers/raw-http.js';
import { PACKAGE_ROOT } from '../src/config.js';
import { buildOpenApi } from '../src/openapi.js';
import { codePointLength, DATE_PATTERN, DATETIME_PATTERN, isDate, isDatetime } from '../src/schema/formats.js';
import { loadModelSchema, parseModelSchema, type ModelSchema } from '../src/schema/load.js';
import { generateTypes } from '../src/schema/typegen.js';
import { buildValidators, exampleRow } from '../src/schema/validators.js';
import http from 'node:http';

const typedSchema = loadModelSchema(TYPED);

interface Target {
  schema: ModelSchema;
  url: string;
  upstream: CountingUpstream;
  close(): Promise<void>;
}

async function target(path: string, env: Record<string, string> = {}, overrides = {}): Promise<Target> {
  const schema = loadModelSchema(path);
  const upstream = await startCountingUpstream(schema);
  const server = await listen(testApp({ SCHEMA_PATH: path, UPSTREAM_URL: upstream.url, ...env }, {}, overrides));
  return {
    schema,
    url: server.url,
    upstream,
    close: async () => {
      await server.close();
      await upstream.close();
    },
  };
}

let typed: Target;
const agent = new http.Agent({ keepAlive: true });
beforeAll(async () => {
  typed = await target(TYPED);
});
afterAll(async () => {
  agent.destroy();
  await typed.close();
});

const row = (changes: Record<string, unknown> = {}) => ({
  review: 'great value',
  member: true,
  joined: '2024-02-29',
  'last/seen': '2026-03-04T05:06:07.5+02:00',
  grade: 2,
  plan: 'pro',
  spend: 12.5,
  ...changes,
});

/** The gateway's answer to exactly these bytes, with a known request id. */
async function send(text: string) {
  const answer = await rawRequest(agent, typed.url, {
    body: Buffer.from(text, 'utf8'),
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'x-request-id': 'typed-1' },
  });
  return answer;
}

describe('typed features: each JSON form, the contract code and sentence of each mistake', () => {
  const cases: Array<[string, string, string | null]> = [
    ['review', '"twelve chars"', null],
    ['review', '""', null],
    ['review', '"thirteen char"', 'too_long'],
    ['review', JSON.stringify('\u{1F600}'.repeat(12)), null], // 12 code points, 24 UTF-16 units
    ['review', JSON.stringify('\u{1F600}'.repeat(13)), 'too_long'],
    ['review', '"\\ud800"', null],
    ['review', '12', 'not_a_string'],
    ['review', 'null', 'not_nullable'],
    ['member', 'false', null],
    ['member', 'null', null],
    ['member', '1', 'not_a_boolean'],
    ['member', '"true"', 'not_a_boolean'],
    ['joined', '"2000-02-29"', null],
    ['joined', '"1900-02-29"', 'not_a_date'],
    ['joined', '"2026-04-31"', 'not_a_date'],
    ['joined', '"1677-12-31"', 'not_a_date'],
    ['joined', '"2261-12-31"', null],
    ['joined', '"2026-01-01T00:00:00"', 'not_a_date'],
    ['joined', '"\u0662\u0660\u0662\u0666-01-01"', 'not_a_date'],
    ['joined', '20260101', 'not_a_date'],
    ['last/seen', '"2026-03-04T05:06:07"', null],
    ['last/seen', '"2026-03-04T05:06:07.123456789Z"', null],
    ['last/seen', '"2026-03-04T05:06:07-23:59"', null],
    ['last/seen', '"2026-03-04T05:06:07+24:00"', 'not_a_datetime'],
    ['last/seen', '"2026-03-04T23:59:60"', 'not_a_datetime'],
    ['last/seen', '"2026-03-04 05:06:07"', 'not_a_datetime'],
    ['last/seen', '"2026-03-04T05:06"', 'not_a_datetime'],
    ['last/seen', '"2026-03-04T05:06:07.1234567890"', 'not_a_datetime'],
    ['last/seen', '"2026-03-04T05:06:07Z\\n"', 'not_a_datetime'],
    ['grade', '5', null],
    ['grade', '5.0', null],
    ['grade', '4', 'unknown_category'],
    ['grade', '2.5', 'unknown_category'],
    ['grade', '1e400', 'unknown_category'],
    ['grade', '"2"', 'not_a_number'],
    ['grade', 'true', 'not_a_number'],
    ['plan', '"Pro"', 'unknown_category'],
    ['plan', '1', 'not_a_string'],
  ];

  it.each(cases)('%s = %s: %s', async (name, value, code) => {
    const text = JSON.stringify({ instances: [row()] }).replace(
      new RegExp(`("${name.replace('/', '\\/')}":)(?:"[^"]*"|[^,}]+)`),
      `$1${value}`,
    );
    const answer = await send(text);
    const errors = expectedErrors(JSON.parse(text), typedSchema);
    expect(errors.map((e) => e.code)).toEqual(code ? [code] : []);
    if (code === null) {
      expect(answer.status, answer.text).toBe(200);
      return;
    }
    expect(answer.status).toBe(422);
    // Byte for byte what the oracle, reading contract.json, says the Flask service answers too.
    const { detail, errors: listed } = expectedValidation(errors);
    expect(answer.text).toBe(expectedProblemText('validation-error', detail, { errors: listed, requestId: 'typed-1' }));
  });

  it('fills the sentences from the schema and the contract: the text limit, the years, the whole-number categories', async () => {
    const text = JSON.stringify({
      instances: [row({ review: 'x'.repeat(13), member: 0, joined: 'soon', 'last/seen': 7, grade: 9, plan: 3 })],
    });
    const body = JSON.parse((await send(text)).text) as { errors: Array<{ pointer: string; detail: string }> };
    expect(Object.fromEntries(body.errors.map((e) => [e.pointer, e.detail]))).toEqual({
      '/instances/0/review': 'must be at most 12 characters long',
      '/instances/0/member': 'must be true or false',
      '/instances/0/joined': 'must be a date as YYYY-MM-DD, in the years 1678 to 2261',
      '/instances/0/last~1seen':
        'must be a date-time as YYYY-MM-DDTHH:MM:SS, with an optional fraction of a second and offset (Z or +HH:MM), in the years 1678 to 2261',
      '/instances/0/grade': 'must be one of: 1, 2, 3, 5',
      '/instances/0/plan': 'must be a string',
    });
  });

  it('decides dates and text lengths as the oracle does, over every day of four centuries and odd strings', () => {
    for (let day = Date.UTC(1677, 11, 25); day <= Date.UTC(2262, 0, 5); day += 86_400_000 * 7) {
      const text = new Date(day).toISOString().slice(0, 10);
      expect(isDate(text), text).toBe(oracleIsDate(text));
      expect(isDatetime(`${text}T23:59:59.999+23:59`)).toBe(oracleIsDatetime(`${text}T23:59:59.999+23:59`));
    }
    for (const text of ['2024-02-29', '2023-02-29', '2100-02-29', '2400-02-29', '0000-01-01', '9999-12-31'])
      expect(isDate(text), text).toBe(oracleIsDate(text));
    for (const text of ['', 'a', '\u{1F600}', '\ud800', '\udc00\ud800', 'e\u0301', '\u{1F600}\ud800x'])
      expect(codePointLength(text), JSON.stringify(text)).toBe([...text].length);
  });

  it("the OpenAPI document's date patterns match exactly the dates and date-times the servers accept", () => {
    // A fuzzer generates from the patterns (schemathesis found 0431-12-03 accepted by the old one, refused by both
    // servers): every year 1600-2300, every month 00-13 and day 00-32, as a date and in date-times.
    const date = new RegExp(DATE_PATTERN);
    const datetime = new RegExp(DATETIME_PATTERN);
    const two = (n: number) => String(n).padStart(2, '0');
    let accepted = 0;
    for (let year = 1600; year <= 2300; year++)
      for (let month = 0; month <= 13; month++)
        for (let day = 0; day <= 32; day++) {
          const text = `${year}-${two(month)}-${two(day)}`;
          expect(date.test(text), text).toBe(isDate(text));
          if (isDate(text)) accepted++;
          const time = `${text}T${two(day % 25)}:${two(month * 5)}:59${day % 2 ? '.5' : ''}${day % 3 ? 'Z' : `-${two(day)}:30`}`;
          expect(datetime.test(time), time).toBe(isDatetime(time));
        }
    expect(accepted).toBe(Math.round((Date.UTC(2262, 0, 1) - Date.UTC(1678, 0, 1)) / 86_400_000));
    for (const time of [
      '2024-01-01T24:00:00',
      '2024-01-01T23:60:00',
      '2024-01-01T23:59:60',
      '2024-01-01T00:00:00+24:00',
    ])
      expect(datetime.test(time), time).toBe(false);
  });
});

describe('answers of every model kind, through the micro-batcher', () => {
  async function batched(path: string) {
    // A window far longer than the test: the batch closes by reaching its row cap, not by the clock.
    const t = await target(path, { BATCH_ENABLED: 'true', BATCH_MAX_ROWS: '6' }, { BATCH_WINDOW_MS: 600_000 });
    try {
      const example = exampleRow(t.schema);
      const first = t.schema.features[0]!;
      const rows = Array.from({ length: 6 }, (_, i) => ({
        ...example,
        [first.name]: first.type === 'text' ? `r${i}` : i * 10.5,
      }));
      const answers = await Promise.all(rows.map((r) => postJson(t.url, { instances: [r] })));
      expect(t.upstream.calls).toBe(1); // one batch of six
      answers.forEach((answer, i) => {
        expect(answer.status).toBe(200);
        expect(answer.body).toEqual(expectedBody(t.schema, [rows[i]!]));
      });
      return answers.map((a) => a.body);
    } finally {
      await t.close();
    }
  }

  it('a classifier without probabilities: each caller gets its own decision scores, labels stay integers', async () => {
    const bodies = await batched(TYPED);
    expect(Object.keys(bodies[0]!)).toEqual(['predictions', 'scores', 'classes', 'model']);
    expect(bodies[0]!['predictions']).toEqual([0]);
  });

  it('an outlier detector: 1 or -1 and its own score', async () => {
    const bodies = await batched(OUTLIER);
    expect(Object.keys(bodies[0]!)).toEqual(['predictions', 'scores', 'model']);
    expect(bodies.map((b) => typeof b['scores'][0])).toEqual(Array(6).fill('number'));
  });

  it('a clustering model: cluster ids only', async () => {
    const bodies = await batched(CLUSTERS);
    expect(Object.keys(bodies[0]!)).toEqual(['predictions', 'model']);
  });
});

describe('schema.json versions and kinds', () => {
  const base = () => structuredClone(typedSchema) as unknown as Record<string, any>;

  it('reads version 1 and 2, and refuses what a version cannot hold or a task its target does not fit', () => {
    expect(() => parseModelSchema(base())).not.toThrow();
    const cases: Array<[(s: Record<string, any>) => void, RegExp]> = [
      [(s) => (s['schemaVersion'] = 3), /schemaVersion/],
      [(s) => (s['schemaVersion'] = 1), /features\.0\.type: schemaVersion 1 has number, integer and string category/],
      [(s) => (s['model']['task'] = 'regression'), /target\.type: a regression model needs a target of type number/],
      [(s) => (s['features'][0]['maxLength'] = 0), /features\.0/],
      [(s) => (s['features'][4]['categories'] = [1, 'two']), /features\.4/],
      [(s) => (s['features'][4]['categories'] = [2 ** 53]), /features\.4/],
      [(s) => (s['target']['outputs'] = ['votes']), /target/],
    ];
    for (const [change, message] of cases) {
      const schema = base();
      change(schema);
      expect(() => parseModelSchema(schema)).toThrow(message);
    }
    const v1 = base();
    v1['schemaVersion'] = 1;
    v1['features'] = [{ name: 'x', type: 'number', nullable: false }];
    v1['target'] = { name: 'y', type: 'category', classes: ['a', 'b'] };
    expect(() => parseModelSchema(v1)).not.toThrow();
  });
});

describe('/openapi.json and the client types state the types and answer shapes', () => {
  it('FeatureRow has each JSON form with its limits; PredictResponse the answer of the task', () => {
    const doc = buildOpenApi(buildValidators(typedSchema));
    const schemas = doc.components.schemas as Record<string, any>;
    const properties = schemas['FeatureRow'].properties;
    expect(properties['review']).toMatchObject({ type: 'string', maxLength: 12, 'x-feature-type': 'text' });
    expect(properties['member']).toMatchObject({ type: ['boolean', 'null'] });
    expect(properties['joined']).toMatchObject({
      type: 'string',
      format: 'date',
      pattern: DATE_PATTERN,
    });
    expect(properties['last/seen'].anyOf[0].pattern).toBe(DATETIME_PATTERN);
    expect(properties['grade']).toMatchObject({ type: 'number', enum: [1, 2, 3, 5] });
    expect(Object.keys(schemas['PredictResponse'].properties)).toEqual(['predictions', 'scores', 'classes', 'model']);
    expect(schemas['PredictResponse'].properties.predictions.items).toMatchObject({ enum: [0, 1] });
    const codes = schemas['Problem'].properties.errors.items.properties.code.enum;
    expect(codes).toEqual(expect.arrayContaining(['not_a_boolean', 'too_long', 'not_a_date', 'not_a_datetime']));
    for (const [path, members] of [
      [OUTLIER, ['predictions', 'scores', 'model']],
      [CLUSTERS, ['predictions', 'model']],
    ] as const) {
      const other = buildOpenApi(buildValidators(loadModelSchema(path))).components.schemas as Record<string, any>;
      expect(Object.keys(other['PredictResponse'].properties)).toEqual(members);
    }
  });

  it("generates the client's types for each kind, and openapi-typescript's reading of the document agrees both ways", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-typed-types-'));
    try {
      const checks: string[] = [];
      for (const [name, path] of [
        ['typed', TYPED],
        ['outlier', OUTLIER],
        ['clusters', CLUSTERS],
      ] as const) {
        const schema = loadModelSchema(path);
        writeFileSync(join(dir, `${name}.types.ts`), generateTypes(schema));
        writeFileSync(join(dir, `${name}.openapi.ts`), await openapiTS(buildOpenApi(buildValidators(schema)) as never));
        checks.push(
          `import type { components as ${name}C } from './${name}.openapi.js';`,
          `import type * as ${name}T from './${name}.types.js';`,
          `declare const ${name}Row: ${name}T.FeatureRow;`,
          `declare const ${name}Response: ${name}T.PredictionResponse;`,
          `declare const ${name}GeneratedRow: ${name}C['schemas']['FeatureRow'];`,
          `declare const ${name}GeneratedResponse: ${name}C['schemas']['PredictResponse'];`,
          `export const ${name}A: ${name}C['schemas']['FeatureRow'] = ${name}Row;`,
          `export const ${name}B: ${name}T.FeatureRow = ${name}GeneratedRow;`,
          `export const ${name}C2: ${name}C['schemas']['PredictResponse'] = ${name}Response;`,
          `export const ${name}D: ${name}T.PredictionResponse = ${name}GeneratedResponse;`,
        );
      }
      const types = generateTypes(typedSchema);
      expect(types).toContain('  review: string;');
      expect(types).toContain('  member: boolean | null;');
      expect(types).toContain('  "last/seen": string | null;');
      expect(types).toContain('  grade: 1 | 2 | 3 | 5;');
      expect(types).toContain('export type Prediction = 0 | 1;');
      expect(types).toContain('  scores?: number[][];');
      expect(generateTypes(loadModelSchema(OUTLIER))).toContain('export type Prediction = 1 | -1;');
      // A row a frontend writes: the date as a string, the flag as a boolean, the grade as a number.
      checks.push(`export const written: typedT.FeatureRow = ${JSON.stringify(exampleRow(typedSchema))};`);
      checks.push(
        `// @ts-expect-error a grade the model does not know\nexport const wrong: typedT.FeatureRow['grade'] = 4;`,
      );
      writeFileSync(join(dir, 'check.ts'), `${checks.join('\n')}\n`);
      const tsc = resolve(PACKAGE_ROOT, 'node_modules', '.bin', 'tsc');
      const r = spawnSync(
        tsc,
        [
          '--strict',
          '--noEmit',
          '--target',
          'es2022',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          'check.ts',
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
