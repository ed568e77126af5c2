// The client package's validator (client/validate.ts) against the gateway's own (src/schema/validators.ts, zod),
// on bodies fast-check generates from each fixture model: every body gets the same errors[] (codes, pointers,
// sentences, order) from both, and every single value the same verdict. The client is built from what the package
// ships (runtimeSchema and runtimeRules are what types.generated.ts holds as SCHEMA and RULES). FUZZ_SEED=<seed>
// replays a failure; FUZZ_SCALE=<n> multiplies the runs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createValidator, type ValidationRules, type ValidationSchema } from '../client/validate.js';
import { loadModelSchema, publicSchema, type FeatureSpec, type ModelSchema } from '../src/schema/load.js';
import { runtimeRules, runtimeSchema } from '../src/schema/typegen.js';
import { buildValidators, exampleRow } from '../src/schema/validators.js';
import { CLUSTERS, IRIS, MIXED, OUTLIER, REGRESSOR, TYPED } from './helpers/app.js';

const scale = Number(process.env['FUZZ_SCALE'] ?? 1);
const seed = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : undefined;
const params = (numRuns: number) => ({ numRuns: Math.round(numRuns * scale), ...(seed !== undefined ? { seed } : {}) });

/** Values a JSON body can carry (1e400 parses to Infinity), and a form's NaN (Number('abc')). */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, 3, 3.0, 2.5, -7, 1e20, 1e39, -1e39, 3.4028234663852886e38, Infinity, NaN),
  fc.constantFrom('', 'abc', '2024-02-29', '2023-02-29', '1677-12-31', '2024-01-01T10:00:00', '2024-01-01T24:00:00Z'),
  fc.constantFrom('2024-01-01T10:00:00.123456789+02:00', '\ud83d\ude00'.repeat(12), 'x'.repeat(13), '\ud800'),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 16, unit: 'binary' }),
  fc.constantFrom([], [1], {}, { a: 1 }),
);

/** Values near what a feature accepts: its categories, lengths around maxLength, dates, whole and fractional numbers. */
function nearValue(feature: FeatureSpec): fc.Arbitrary<unknown> {
  switch (feature.type) {
    case 'category':
      return fc.oneof(
        fc.constantFrom(...(feature.categories as Array<string | number>)),
        fc
          .constantFrom(...(feature.categories as Array<string | number>))
          .map((c) => (typeof c === 'number' ? `${c}` : c.toUpperCase())),
      );
    case 'text':
      return fc.string({ minLength: feature.maxLength - 1, maxLength: feature.maxLength + 1, unit: 'grapheme' });
    case 'date':
      return fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'datetime':
      return fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 19));
    case 'boolean':
      return fc.boolean();
    default:
      return fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
  }
}

/**
 * A member name a caller chose: short, or longer than contract.json's maxEchoedNameLength (64), so pointers echo it
 * cut, in UTF-16 units or with surrogate pairs that count once.
 */
const memberName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 70 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 70, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constantFrom('\ud83d\ude00'.repeat(64), '\ud83d\ude00'.repeat(65), 'n'.repeat(65)) },
);

/**
 * A row: each feature present (near or any value) or missing, sometimes unknown members (with all features present,
 * one more is already too many members); or one unknown member alone.
 */
function rowArb(schema: ModelSchema): fc.Arbitrary<unknown> {
  const entries = schema.features.map((f) =>
    fc.oneof(
      { weight: 6, arbitrary: nearValue(f).map((v) => [[f.name, v]] as Array<[string, unknown]>) },
      { weight: 2, arbitrary: anyValue.map((v) => [[f.name, v]] as Array<[string, unknown]>) },
      { weight: 1, arbitrary: fc.constant([] as Array<[string, unknown]>) },
    ),
  );
  const extra = fc.array(fc.tuple(memberName, anyValue), { maxLength: 2 });
  const row = fc
    .tuple(fc.tuple(...entries), extra)
    .map(([known, unknown]) => Object.fromEntries([...known.flat(), ...unknown]) as unknown);
  const stranger = fc.tuple(memberName, anyValue).map(([k, v]) => Object.fromEntries([[k, v]]) as unknown);
  return fc.oneof(
    { weight: 12, arbitrary: row },
    { weight: 2, arbitrary: stranger },
    { weight: 1, arbitrary: anyValue },
  );
}

function bodyArb(schema: ModelSchema): fc.Arbitrary<unknown> {
  const rows = fc.array(rowArb(schema), { maxLength: 4 });
  const valid = exampleRow(schema);
  return fc.oneof(
    { weight: 12, arbitrary: rows.map((instances) => ({ instances })) },
    {
      weight: 2,
      arbitrary: fc.tuple(rows, memberName, anyValue).map(
        ([instances, k, v]) =>
          Object.fromEntries([
            ['instances', instances],
            [k, v],
          ]) as unknown,
      ),
    },
    { weight: 1, arbitrary: fc.tuple(memberName, anyValue).map(([k, v]) => Object.fromEntries([[k, v]]) as unknown) },
    {
      weight: 1,
      arbitrary: fc.constant({ instances: Array.from({ length: schema.limits.maxRows + 1 }, () => valid) }),
    },
    { weight: 1, arbitrary: fc.constant({ instances: Array.from({ length: schema.limits.maxRows }, () => valid) }) },
    { weight: 1, arbitrary: anyValue.map((instances) => ({ instances })) },
    { weight: 1, arbitrary: anyValue },
    { weight: 1, arbitrary: fc.constant({ rows: [valid] }) },
  );
}

/** Whether every member of `part` is in `whole` with the same value (arrays alike item by item). */
function isPartOf(part: unknown, whole: unknown): boolean {
  if (typeof part !== 'object' || part === null) return Object.is(part, whole);
  if (typeof whole !== 'object' || whole === null || Array.isArray(part) !== Array.isArray(whole)) return false;
  if (Array.isArray(part))
    return part.length === (whole as unknown[]).length && part.every((v, i) => isPartOf(v, (whole as unknown[])[i]));
  return Object.entries(part).every(
    ([k, v]) => Object.hasOwn(whole, k) && isPartOf(v, (whole as Record<string, unknown>)[k]),
  );
}

describe.each([
  ['iris', IRIS],
  ['mixed', MIXED],
  ['typed', TYPED],
  ['regressor', REGRESSOR],
  ['outlier', OUTLIER],
  ['clusters', CLUSTERS],
])('client validator = gateway validator (%s)', (_name, path) => {
  const schema = loadModelSchema(path);
  const gateway = buildValidators(schema);
  const client = createValidator(
    runtimeSchema(schema) as unknown as ValidationSchema,
    runtimeRules() as unknown as ValidationRules,
  );
  const gatewayErrors = (body: unknown) => {
    const result = gateway.validateRequest(body);
    return result.ok ? [] : result.errors;
  };

  it('ships as SCHEMA only a part of what GET /v1/schema serves', () => {
    const served: unknown = JSON.parse(JSON.stringify(publicSchema(schema)));
    expect(isPartOf(runtimeSchema(schema), served)).toBe(true);
  });

  it('gives every body the same errors[], in the same order', () => {
    let invalid = 0;
    let documentTooMany = 0;
    let rowTooMany = 0;
    let echoedCut = 0;
    fc.assert(
      fc.property(bodyArb(schema), (body) => {
        const expected = gatewayErrors(body);
        if (expected.length > 0) invalid++;
        for (const error of expected) {
          if (error.code === 'too_many_members') error.pointer === '' ? documentTooMany++ : rowTooMany++;
          if (error.code === 'unknown_field' && error.pointer.endsWith('\u2026')) echoedCut++;
        }
        expect(client.validateRequest(body)).toEqual(expected);
      }),
      params(400),
    );
    // The corpus must exercise both answers, not only refusals, and the cheap refusals and cut names among them.
    expect(invalid).toBeGreaterThan(0);
    expect(documentTooMany).toBeGreaterThan(0);
    expect(rowTooMany).toBeGreaterThan(0);
    expect(echoedCut).toBeGreaterThan(0);
    expect(client.validateRequest({ instances: [exampleRow(schema)] })).toEqual([]);
  });

  it('gives every single value the verdict the gateway gives it in a row', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...schema.features),
        fc.oneof(anyValue, ...schema.features.map(nearValue)),
        fc.nat({ max: 3 }),
        (feature, value, index) => {
          const rows: unknown[] = Array.from({ length: index + 1 }, () => exampleRow(schema));
          rows[index] = { ...exampleRow(schema), [feature.name]: value };
          const expected = gatewayErrors({ instances: rows });
          expect(client.validateField(feature.name, value, index)).toEqual(expected[0]);
          expect(client.validateRow(rows[index], index)).toEqual(expected);
        },
      ),
      params(400),
    );
  });
});
