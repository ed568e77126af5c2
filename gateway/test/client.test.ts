import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  createMockClient,
  createPredictionClient,
  MODEL,
  SCHEMA,
  isAbortError,
  isProblemOf,
  isRateLimited,
  isRetryable,
  isTimeout,
  isUnreachable,
  isValidationProblem,
  parseRateLimit,
  parseRetryAfter,
  PredictionProblem,
  RULES,
  validationProblem,
  validator,
  type FeatureRow,
  type ProblemKind,
  type ServedSchema,
} from '../client/index.js';
import { API_KEY, IRIS, irisRow, listen, testApp } from './helpers/app.js';
import { closedPort, echoPrediction, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { loadModelSchema } from '../src/schema/load.js';
import { runtimeRules, runtimeSchema } from '../src/schema/typegen.js';
import { createValidator, type ValidationRules, type ValidationSchema } from '../client/validate.js';

// The client's FeatureRow is generated from the project's schema (npm run schema:sync); these tests talk to a gateway
// built from the iris fixture, so fixture rows are passed through the client as they are, whatever the project's model.
const fixtureRow = (...args: Parameters<typeof irisRow>) => irisRow(...args) as unknown as FeatureRow;

let upstream: FakeUpstream;
let gateway: { url: string; close(): Promise<void> };
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
  gateway = await listen(testApp({ UPSTREAM_URL: upstream.url }));
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

const failure = (call: Promise<unknown>) =>
  call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (err: unknown) => err,
  );

describe('typed frontend client (client/)', () => {
  it('predicts with typed rows and returns the typed answer with request id and model version', async () => {
    const client = createPredictionClient({ baseURL: gateway.url, apiKey: API_KEY });
    const rows: FeatureRow[] = [fixtureRow(5.0), fixtureRow(6.7)];
    const answer = await client.predict(rows, { requestId: 'client-test-1' });
    const schema = loadModelSchema(IRIS);
    expect(answer.predictions).toEqual(rows.map((r) => echoPrediction(schema, { ...r }).prediction));
    // The iris fixture's answer, read past the project's types (a regression project's answers have no classes).
    expect((answer as { classes?: unknown }).classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(answer.requestId).toBe('client-test-1');
    expect(answer.modelVersion).toBe('3f2a9c0d41b7');
    const served = await client.schema(new AbortController().signal);
    expectTypeOf(served).toEqualTypeOf<ServedSchema>();
    expect(served.model).toMatchObject({ name: 'iris-classifier' });
    expect(served.features.map((f) => f.type)).toEqual(['number', 'number', 'number', 'number']);
  });

  it('surfaces a 422 as a validation problem with errors by row and feature, and those of no feature apart', async () => {
    const client = createPredictionClient({ baseURL: gateway.url, apiKey: API_KEY });
    // No more members than the model has features (4), else the row is refused whole by its count.
    const { petal_length: _dropped, ...three } = irisRow();
    const bad = { ...three, petal_width: 'wide', colour: 'red' } as unknown as FeatureRow;
    const err = await failure(client.predict([fixtureRow(), bad, 7 as unknown as FeatureRow]));
    expect(isValidationProblem(err)).toBe(true);
    const problem = err as PredictionProblem;
    expect(problem).toMatchObject({
      status: 422,
      kind: 'validation-error',
      type: 'urn:sci-eb:problem:validation-error',
    });
    expect(problem.errors).toEqual([
      { pointer: '/instances/1/petal_length', code: 'required', detail: 'is required' },
      { pointer: '/instances/1/petal_width', code: 'not_a_number', detail: 'must be a number' },
      { pointer: '/instances/1/colour', code: 'unknown_field', detail: 'is not a feature of this model' },
      { pointer: '/instances/2', code: 'not_an_object', detail: 'must be an object of feature values' },
    ]);
    expect(problem.errorsForRow(1)).toEqual({ petal_length: 'is required', petal_width: 'must be a number' });
    // Keyed by the iris fixture's feature names, whatever the project's model (FeatureName) is.
    const fields = problem.errorsOf(1).fields as Record<string, { code: string } | undefined>;
    expect(fields['petal_width']?.code).toBe('not_a_number');
    expect(problem.errorsOf(1).other.map((e) => e.pointer)).toEqual(['/instances/1/colour']);
    expect(problem.errorsOf(2)).toEqual({ fields: {}, other: [problem.errors[3]] });
    expect(problem.documentErrors).toEqual([]);
    expect(problem.requestId).toBeTruthy();
    // The local validator gives the same list without a request; with validate: true nothing is sent.
    // (The iris fixture's validator here; the package's own `validator` is the project's model's.)
    const iris = createValidator(
      runtimeSchema(loadModelSchema(IRIS)) as unknown as ValidationSchema,
      runtimeRules() as unknown as ValidationRules,
    );
    expect(iris.validateRows([fixtureRow(), bad, 7])).toEqual(problem.errors);
    // A row with more members than the model has features is refused by its count alone, as the gateway does.
    const crowded = { ...irisRow(), colour: 'red' };
    expect(iris.validateRows([crowded])).toEqual([
      {
        pointer: '/instances/0',
        code: 'too_many_members',
        detail: 'has more members than the model has features (4): send only those the schema lists',
      },
    ]);
    const calls = upstream.calls.length;
    const local = await failure(
      createPredictionClient({ baseURL: 'http://127.0.0.1:9', validate: true }).predict([bad]),
    );
    expect(local).toMatchObject({ kind: 'validation-error', status: 422, local: true });
    expect((local as PredictionProblem).errors).toEqual(validator.validateRows([bad]));
    expect(upstream.calls.length).toBe(calls);
    const empty = await failure(client.predict([]));
    expect((empty as PredictionProblem).documentErrors.map((e) => e.code)).toEqual(['too_few_rows']);
  });

  it('refuses, unsent, the bodies the gateway answers 413 before reading them, with the answer it gives', async () => {
    const client = createPredictionClient({ baseURL: gateway.url, apiKey: API_KEY });
    const checking = createPredictionClient({ baseURL: 'http://127.0.0.1:9', validate: true });
    const mock = createMockClient();
    // One row of 90,000 made-up names: more ':' than any valid request holds (docs/contract.md, "Cheap refusals").
    const crowded: Record<string, unknown> = irisRow();
    for (let i = 0; i < 90_000; i++) crowded[i.toString(36)] = 0;
    // 1,000 rows padded past maxBodyBytes: refused by its size first.
    const padded = Array.from({ length: 1000 }, (_, i) => ({ ...irisRow(i), pad: 'x'.repeat(1100) }));
    const calls = upstream.calls.length;
    for (const rows of [[crowded], padded] as unknown as FeatureRow[][]) {
      const served = (await failure(client.predict(rows))) as PredictionProblem;
      expect(served).toMatchObject({ kind: 'body-too-large', status: 413, local: false });
      const head = (p: PredictionProblem) => [p.kind, p.status, p.type, p.title, p.detail];
      const unsent = (await failure(checking.predict(rows))) as PredictionProblem;
      expect(head(unsent)).toEqual(head(served));
      expect(unsent.local).toBe(true);
      expect(head((await failure(mock.predict(rows))) as PredictionProblem)).toEqual(head(served));
    }
    expect(upstream.calls.length).toBe(calls);
  });

  it("validates one field by the model's feature names: another name is the gateway's unknown_field", () => {
    expectTypeOf(validator.validateField).parameter(0).toEqualTypeOf<(typeof SCHEMA.features)[number]['name']>();
    const name = SCHEMA.features[0].name;
    expect(validator.validateField(name, null, 2)).toMatchObject({ pointer: `/instances/2/${name}` });
    expect(validator.validateField(`${name}_typo` as typeof name, 1)).toEqual({
      pointer: `/instances/0/${name}_typo`,
      code: 'unknown_field',
      detail: RULES.errors['row.unknown_field'],
    });
  });

  it('types kinds and codes as closed unions: a misspelt kind does not compile', () => {
    expectTypeOf<'validation-error'>().toExtend<ProblemKind>();
    expectTypeOf<'timeout'>().toExtend<ProblemKind>();
    expectTypeOf<'validaton-error'>().not.toExtend<ProblemKind>();
    expectTypeOf<PredictionProblem['errors'][number]['code']>().toExtend<string>();
    expectTypeOf<'not_finite'>().toExtend<PredictionProblem['errors'][number]['code']>();
    expectTypeOf<'not_finit'>().not.toExtend<PredictionProblem['errors'][number]['code']>();
  });

  it("tells 401, an unreachable gateway, a timeout and the caller's own abort apart", async () => {
    const noKey = createPredictionClient({ baseURL: gateway.url });
    const unauthorized = await failure(noKey.predict([fixtureRow()]));
    expect(isProblemOf(unauthorized, 'unauthorized')).toBe(true);
    expect(unauthorized).toMatchObject({ status: 401, type: 'urn:sci-eb:problem:unauthorized' });

    const port = await closedPort();
    const nowhere = createPredictionClient({ baseURL: `http://127.0.0.1:${port}`, apiKey: API_KEY });
    const network = await failure(nowhere.predict([fixtureRow()]));
    expect(isUnreachable(network)).toBe(true);
    expect(network).toMatchObject({ status: 0, kind: 'unreachable', type: 'urn:sci-eb:problem:unreachable' });
    expect(isRetryable(network)).toBe(true);

    // The upstream hangs (fault injection); the gateway waits for it, the client's deadline ends the call first.
    upstream.fallback = { kind: 'hang' };
    try {
      const slow = createPredictionClient({ baseURL: gateway.url, apiKey: API_KEY, timeoutMs: 200 });
      const timedOut = await failure(slow.predict([fixtureRow()]));
      expect(isTimeout(timedOut)).toBe(true);
      expect(timedOut).toMatchObject({ status: 0, kind: 'timeout', type: 'urn:sci-eb:problem:timeout' });

      const controller = new AbortController();
      const patient = createPredictionClient({ baseURL: gateway.url, apiKey: API_KEY, timeoutMs: 10_000 });
      const call = failure(patient.predict([fixtureRow()], { signal: controller.signal }));
      setTimeout(() => controller.abort(), 50);
      const aborted = await call;
      expect(aborted).not.toBeInstanceOf(PredictionProblem);
      expect(isAbortError(aborted)).toBe(true);
      expect(aborted).toBeInstanceOf(DOMException);
      // Already aborted: nothing is sent.
      const before = upstream.calls.length;
      expect(isAbortError(await failure(patient.schema(AbortSignal.abort())))).toBe(true);
      expect(upstream.calls.length).toBe(before);
    } finally {
      upstream.reset();
    }
  });

  it('parses Retry-After and RateLimit from a real 429', async () => {
    const limited = await listen(testApp({ UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '1' }));
    try {
      const client = createPredictionClient({ baseURL: limited.url, apiKey: API_KEY });
      const first = await client.predict([fixtureRow()]);
      expect(first.rateLimit).toMatchObject({ limit: 1, windowSeconds: 60, remaining: 0 });
      const err = await failure(client.predict([fixtureRow()]));
      expect(isRateLimited(err)).toBe(true);
      const problem = err as PredictionProblem;
      expect(problem.status).toBe(429);
      expect(problem.retryAfter).toBeGreaterThan(0);
      expect(problem.retryAfter).toBeLessThanOrEqual(60);
      expect(problem.rateLimit).toMatchObject({ limit: 1, remaining: 0 });
      expect(isRetryable(problem)).toBe(true);
    } finally {
      await limited.close();
    }
  });

  it("words a local 422 as the gateway does: one, many, and capped at the contract's maxErrors", () => {
    const error = {
      pointer: '/instances/0',
      code: 'not_an_object' as const,
      detail: 'must be an object of feature values',
    };
    expect(validationProblem([error]).detail).toBe('1 problem; see errors');
    expect(validationProblem([error, error]).detail).toBe('2 problems; see errors');
    const many = validationProblem(Array.from({ length: RULES.maxErrors + 5 }, () => error));
    expect(many.errors).toHaveLength(RULES.maxErrors);
    expect(many.errorsOmitted).toBe(5);
    expect(many.detail).toBe(`${RULES.maxErrors + 5} problems; the first ${RULES.maxErrors} are listed in errors`);
  });

  it('reads Retry-After as seconds or an HTTP date, and RateLimit fields', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(new Date(Date.UTC(2026, 0, 1, 0, 1, 30)).toUTCString(), Date.UTC(2026, 0, 1))).toBe(90);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    const headers = new Headers({
      RateLimit: '"60-in-1min"; r=12; t=30',
      'RateLimit-Policy': '"60-in-1min"; q=60; w=60',
    });
    expect(parseRateLimit(headers)).toEqual({ limit: 60, windowSeconds: 60, remaining: 12, resetSeconds: 30 });
    expect(parseRateLimit(new Headers())).toBeUndefined();
  });

  it('mocks the gateway from the same validator: 422s, answers of the model shape, chosen problems, aborts', async () => {
    // The mock is the project's model (types.generated.ts); its rows are built from SCHEMA, whatever the model.
    const sampleOf = (f: (typeof SCHEMA.features)[number]): unknown => {
      const spec = f as { type: string; categories?: unknown[]; observedMin?: number };
      if (spec.categories) return spec.categories[0];
      if (spec.type === 'number' || spec.type === 'integer') return Math.round(spec.observedMin ?? 0);
      return { text: 'x', boolean: false, date: '2020-01-01', datetime: '2020-01-01T00:00:00' }[spec.type];
    };
    const row = Object.fromEntries(SCHEMA.features.map((f) => [f.name, sampleOf(f)])) as unknown as FeatureRow;
    expect(validator.validateRows([row])).toEqual([]);
    const mock = createMockClient();
    const answer = await mock.predict([row, row], { requestId: 'mock-1' });
    expect(answer.predictions).toHaveLength(2);
    // The members the model's real answers carry (a UI showing probabilities shows them offline too).
    const target: { type: string; outputs?: readonly string[] } = SCHEMA.target;
    const implied = { category: ['probabilities'], outlier: ['scores'] }[target.type] ?? []; // version 1's
    const outputs = target.outputs ?? implied;
    for (const member of ['probabilities', 'scores'])
      expect(Object.hasOwn(answer, member), member).toBe(outputs.includes(member));
    expect(answer).toMatchObject({ model: { name: MODEL.name, version: MODEL.version }, requestId: 'mock-1' });
    const bad = { ...row, not_a_feature: 1 } as unknown as FeatureRow;
    const invalid = await failure(mock.predict([bad]));
    expect(isValidationProblem(invalid)).toBe(true);
    expect((invalid as PredictionProblem).errors).toEqual(validator.validateRows([bad]));
    expect((invalid as PredictionProblem).local).toBe(false);
    const limited = await failure(createMockClient({ problem: 'rate-limited' }).predict([row]));
    expect(limited).toMatchObject({ kind: 'rate-limited', status: 429, retryAfter: 1 });
    const custom = createMockClient({
      predict: (rows) => ({ predictions: rows.map(() => 42), model: { name: 'm', version: 'custom' } }) as never,
    });
    expect(await custom.predict([row])).toMatchObject({ predictions: [42], model: { version: 'custom' } });
    const slow = createMockClient({ delayMs: 5_000 });
    const controller = new AbortController();
    const call = failure(slow.predict([row], { signal: controller.signal }));
    controller.abort();
    expect(isAbortError(await call)).toBe(true);
    expect((await createMockClient().schema()).features.map((f) => f.name)).toEqual(SCHEMA.features.map((f) => f.name));
  });
});
