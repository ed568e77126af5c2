import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, MIXED, REGRESSOR, testApp } from './helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { buildValidators } from '../src/schema/validators.js';
import { loadModelSchema } from '../src/schema/load.js';

const good = () => ({
  tenure_months: 12,
  monthly_charges: 70.35,
  rooms: null,
  contract: 'one-year',
  colour: 'red',
  'data/usage~gb': 42.5,
});

let upstream: FakeUpstream;
let app: ReturnType<typeof testApp>;

beforeAll(async () => {
  upstream = await startFakeUpstream(MIXED);
  app = testApp({ SCHEMA_PATH: MIXED, UPSTREAM_URL: upstream.url });
});
afterAll(() => upstream.close());

function post(body: unknown) {
  return request(app)
    .post('/v1/predict')
    .set('X-API-Key', API_KEY)
    .send(body as object);
}

async function errorsFor(body: unknown) {
  const before = upstream.calls.length;
  const res = await post(body);
  expect(res.status).toBe(422);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  // An invalid request never reaches the model service.
  expect(upstream.calls.length).toBe(before);
  return res.body.errors as Array<{ pointer: string; code: string; detail: string }>;
}

describe('schema-driven validation (mixed fixture: integer, number, category, nullable)', () => {
  it('accepts a valid row, with 3.0 as an integer and null where nullable', async () => {
    const res = await post({ instances: [{ ...good(), tenure_months: 3.0, monthly_charges: null, colour: null }] });
    expect(res.status).toBe(200);
    expect(res.body.predictions).toHaveLength(1);
    expect(upstream.calls.at(-1)?.rows[0]).toEqual({
      ...good(),
      tenure_months: 3,
      monthly_charges: null,
      colour: null,
    });
  });

  it('answers the RFC 9457 shape of the contract', async () => {
    const res = await post({ instances: [{ ...good(), contract: 'weekly' }] });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      type: 'urn:sci-eb:problem:validation-error',
      title: "The request does not match the model's feature schema",
      status: 422,
      detail: '1 problem; see errors',
      errors: [
        {
          pointer: '/instances/0/contract',
          code: 'unknown_category',
          detail: 'must be one of: month-to-month, one-year, two-year',
        },
      ],
    });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });

  it.each([
    ['missing feature', { tenure_months: undefined }, '/instances/0/tenure_months', 'required'],
    ['string for a number', { monthly_charges: '70.35' }, '/instances/0/monthly_charges', 'not_a_number'],
    ['boolean for a number', { 'data/usage~gb': true }, '/instances/0/data~1usage~0gb', 'not_a_number'],
    ['object for an integer', { tenure_months: { v: 1 } }, '/instances/0/tenure_months', 'not_a_number'],
    ['fraction for an integer', { tenure_months: 12.5 }, '/instances/0/tenure_months', 'not_an_integer'],
    ['number for a category', { contract: 1 }, '/instances/0/contract', 'not_a_string'],
    ['case-changed category', { contract: 'One-Year' }, '/instances/0/contract', 'unknown_category'],
    ['null where not nullable (number)', { 'data/usage~gb': null }, '/instances/0/data~1usage~0gb', 'not_nullable'],
    ['null where not nullable (category)', { contract: null }, '/instances/0/contract', 'not_nullable'],
    ['null where not nullable (integer)', { tenure_months: null }, '/instances/0/tenure_months', 'not_nullable'],
  ])('%s', async (_name, change, pointer, code) => {
    const row: Record<string, unknown> = { ...good(), ...change };
    for (const key of Object.keys(row)) if (row[key] === undefined) delete row[key];
    expect(await errorsFor({ instances: [row] })).toEqual([expect.objectContaining({ pointer, code })]);
  });

  it('reports a non-finite number (1e400 parses to Infinity) as not_finite', async () => {
    const before = upstream.calls.length;
    const body = JSON.stringify({ instances: [good()] }).replace('42.5', '1e400');
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      {
        pointer: '/instances/0/data~1usage~0gb',
        code: 'not_finite',
        detail: 'must be a finite number, at most 3.4e38 in magnitude',
      },
    ]);
    expect(upstream.calls.length).toBe(before);
  });

  it('names an unknown field by pointer without echoing it in the detail', async () => {
    const { colour: _dropped, ...rest } = good();
    const errors = await errorsFor({ instances: [{ ...rest, 'secret-column': 'x' }] });
    expect(errors).toEqual([
      { pointer: '/instances/0/colour', code: 'required', detail: 'is required' },
      { pointer: '/instances/0/secret-column', code: 'unknown_field', detail: 'is not a feature of this model' },
    ]);
  });

  it('gives one entry per problem across rows, in row order, never echoing values', async () => {
    const marker = 'SENSITIVE-VALUE-123';
    const errors = await errorsFor({
      instances: [
        good(),
        { ...good(), contract: marker, monthly_charges: marker },
        7,
        { ...good(), rooms: 2.25, extra: marker },
        { ...good(), colour: undefined, rooms: 2.25, extra: marker },
      ],
    });
    expect(errors.map((e) => [e.pointer, e.code])).toEqual([
      ['/instances/1/monthly_charges', 'not_a_number'],
      ['/instances/1/contract', 'unknown_category'],
      ['/instances/2', 'not_an_object'],
      // More members than the model has features: refused whole, its members unread (docs/contract.md).
      ['/instances/3', 'too_many_members'],
      ['/instances/4/rooms', 'not_an_integer'],
      ['/instances/4/colour', 'required'],
      ['/instances/4/extra', 'unknown_field'],
    ]);
    expect(JSON.stringify(errors)).not.toContain(marker);
    expect(JSON.stringify(errors)).not.toContain('2.25');
  });

  it.each([
    ['a top level that is not an object', [1, 2], '', 'not_an_object'],
    ['a missing instances member', {}, '/instances', 'required'],
    ['instances that is not an array', { instances: { a: 1 } }, '/instances', 'not_an_array'],
    ['zero rows', { instances: [] }, '/instances', 'too_few_rows'],
    // Found by test/fuzz.test.ts: zod's length checks also ran on non-arrays, adding too_few_rows/too_many_rows.
    ['instances that is an empty string', { instances: '' }, '/instances', 'not_an_array'],
    ['instances that is a string longer than maxRows', { instances: 'x'.repeat(60) }, '/instances', 'not_an_array'],
    ['instances that is an object with a length', { instances: { length: 0 } }, '/instances', 'not_an_array'],
    ['an unknown top-level member', { instance: [good()] }, '/instance', 'unknown_field'],
    ['a member beside instances', { instances: [good()], options: {} }, '', 'too_many_members'],
  ])('rejects %s', async (_name, body, pointer, code) => {
    const errors = await errorsFor(body);
    expect(errors.at(-1)).toEqual(expect.objectContaining({ pointer, code }));
    expect(errors).toHaveLength(pointer === '/instance' ? 2 : 1); // with /instances required before it
  });

  it('rejects more rows than limits.maxRows with one too_many_rows entry', async () => {
    // Short, partly invalid rows keep the body under the fixture's 4096-byte limit, so the row limit is what answers.
    const rows = Array.from({ length: 51 }, () => ({ tenure_months: 1 }));
    const res = await post({ instances: rows });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { pointer: '/instances', code: 'too_many_rows', detail: 'must contain at most 50 rows' },
    ]);
  });
});

describe('body handling', () => {
  it('415 for a body that is not application/json', async () => {
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'text/plain')
      .send('{"instances":[]}');
    expect(res.status).toBe(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('urn:sci-eb:problem:unsupported-media-type');
  });

  it('415 for form posts and for a non-UTF-8 charset', async () => {
    const form = await request(app).post('/v1/predict').set('X-API-Key', API_KEY).type('form').send({ a: '1' });
    expect(form.status).toBe(415);
    const latin1 = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'application/json; charset=iso-8859-1')
      .send('{"instances":[]}');
    expect(latin1.status).toBe(415);
  });

  it('accepts Application/JSON; charset=UTF-8', async () => {
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'Application/JSON; charset=UTF-8')
      .send(JSON.stringify({ instances: [good()] }));
    expect(res.status).toBe(200);
  });

  it('400 for malformed JSON, without quoting the body', async () => {
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'application/json')
      .send('{"instances": [SECRET');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'urn:sci-eb:problem:malformed-json', status: 400 });
    expect(JSON.stringify(res.body)).not.toContain('SECRET');
  });

  it('400 for an empty body and for bytes that are not UTF-8', async () => {
    const empty = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'application/json')
      .send('');
    expect(empty.status).toBe(400);
    const invalid = Buffer.concat([
      Buffer.from('{"instances":[{"contract":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}'),
    ]);
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'application/json')
      .serialize((bytes: unknown) => bytes as string)
      .send(invalid);
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:sci-eb:problem:malformed-json');
  });

  it('400 (not 500) for a body whose Content-Encoding does not inflate', async () => {
    // Found by test/fuzz.test.ts: zlib's error reached the error handler as an unknown error, i.e. 500 internal-error.
    const text = JSON.stringify({ instances: [good()] });
    for (const [encoding, bytes] of [
      ['gzip', Buffer.from(text)],
      ['gzip', gzipSync(text).subarray(0, 12)],
      ['deflate', Buffer.from('garbage')],
    ] as const) {
      const res = await request(app)
        .post('/v1/predict')
        .set('X-API-Key', API_KEY)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .serialize((b: unknown) => b as string)
        .send(bytes);
      expect(res.status, encoding).toBe(400);
      expect(res.body).toMatchObject({
        type: 'urn:sci-eb:problem:malformed-json',
        status: 400,
        detail: 'The body could not be decompressed as its Content-Encoding says.',
      });
    }
    const inflated = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .serialize((b: unknown) => b as string)
      .send(gzipSync(text));
    expect(inflated.status).toBe(200);
  });

  it('413 above limits.maxBodyBytes (4096 in this fixture)', async () => {
    const before = upstream.calls.length;
    const big = JSON.stringify({ instances: [{ ...good(), contract: 'x'.repeat(5000) }] });
    const res = await request(app)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .set('Content-Type', 'application/json')
      .send(big);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ type: 'urn:sci-eb:problem:body-too-large', status: 413 });
    expect(upstream.calls.length).toBe(before);
  });

  it('404 and 405 are problems too', async () => {
    const missing = await request(app).get('/v2/whatever');
    expect(missing.status).toBe(404);
    expect(missing.body.type).toBe('urn:sci-eb:problem:not-found');
    const wrongMethod = await request(app).get('/v1/predict').set('X-API-Key', API_KEY);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers['allow']).toBe('POST');
    expect(wrongMethod.body.detail).toBe('The Allow header lists the methods this path accepts.');
    expect(wrongMethod.body.type).toBe('urn:sci-eb:problem:method-not-allowed');
  });
});

describe('validators built from other fixtures', () => {
  it('regressor: integer accepts the whole numbers a double holds exactly, category is exact (umlauts included)', () => {
    const v = buildValidators(loadModelSchema(REGRESSOR));
    const row = { area_m2: 80, rooms: Number.MAX_SAFE_INTEGER, year_built: null, city: 'München' };
    expect(v.validateRequest({ instances: [row] })).toEqual({ ok: true, rows: [row] });
    for (const rooms of [2 ** 53, -(2 ** 53), 1e20]) {
      const past = v.validateRequest({ instances: [{ ...row, rooms }] });
      expect(!past.ok && past.errors.map((e) => e.code)).toEqual(['not_an_integer']);
    }
    const bad = v.validateRequest({ instances: [{ ...row, city: 'Munchen', year_built: 1999.5 }] });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors.map((e) => e.code)).toEqual(['not_an_integer', 'unknown_category']);
  });
});

describe('magnitudes, as the Flask service answers them', () => {
  it('a number beyond float32 range is not_finite (tree models compute in float32); the largest float32 is fine', async () => {
    expect(
      await errorsFor({
        instances: [
          { ...good(), monthly_charges: 1e39 },
          { ...good(), monthly_charges: -3.4e38 },
          { ...good(), tenure_months: 1e40 },
        ],
      }),
    ).toEqual([
      {
        pointer: '/instances/0/monthly_charges',
        code: 'not_finite',
        detail: 'must be a finite number, at most 3.4e38 in magnitude',
      },
      {
        pointer: '/instances/2/tenure_months',
        code: 'not_finite',
        detail: 'must be a finite number, at most 3.4e38 in magnitude',
      },
    ]);
  });
});
