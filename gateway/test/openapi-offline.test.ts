// What a frontend needs from /openapi.json to work without the model: response examples that are what the gateway
// sends (checked against the real answers and the document's own schemas), integer bounds a JavaScript number
// holds, Retry-After and RateLimit declared where they are sent, 401 and 429 only when keys and limits are on,
// `servers`, and ETag revalidation of /openapi.json and /v1/schema.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT, PROBLEM_KINDS } from '../src/contract.js';
import { invalidExampleBody } from '../src/openapi-examples.js';
import { loadModelSchema } from '../src/schema/load.js';
import { buildValidators } from '../src/schema/validators.js';
import { API_KEY, CLUSTERS, IRIS, MIXED, OUTLIER, REGRESSOR, TYPED, testApp } from './helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
});
afterAll(async () => {
  await upstream.close();
});

type Doc = Record<string, any>;
const documentOf = async (env: Record<string, string> = {}): Promise<Doc> =>
  JSON.parse((await request(testApp({ UPSTREAM_URL: upstream.url, ...env })).get('/openapi.json')).text);

/** Every response example of the document, with where it is. */
function responseExamples(doc: Doc): Array<{ at: string; status: string; value: any }> {
  const out: Array<{ at: string; status: string; value: any }> = [];
  for (const [path, item] of Object.entries<Doc>(doc['paths']))
    for (const [method, op] of Object.entries<Doc>(item))
      for (const [status, response] of Object.entries<Doc>(op['responses'] ?? {}))
        for (const media of Object.values<Doc>(response['content'] ?? {})) {
          if (media['example'] !== undefined)
            out.push({ at: `${method} ${path} ${status}`, status, value: media['example'] });
          for (const [name, example] of Object.entries<Doc>(media['examples'] ?? {}))
            out.push({ at: `${method} ${path} ${status} ${name}`, status, value: example['value'] });
        }
  return out;
}

describe.each([
  ['iris', IRIS],
  ['mixed', MIXED],
  ['typed', TYPED],
  ['regressor', REGRESSOR],
  ['outlier', OUTLIER],
  ['clusters', CLUSTERS],
])('/openapi.json examples (%s)', (_name, path) => {
  it('has a 200 example the answer schema accepts, and one example per problem kind with its status', async () => {
    const schema = loadModelSchema(path);
    const validators = buildValidators(schema);
    const doc = await documentOf({ SCHEMA_PATH: path, RATE_LIMIT_MAX: '100' });
    const predict = doc['paths']['/v1/predict'].post;
    const ok = predict.responses['200'].content['application/json'].example;
    expect(validators.response.safeParse(ok).success).toBe(true);
    expect(ok.predictions).toHaveLength(2);

    // The catalogue has every kind; the operations' examples are bodies of their own statuses.
    const catalogue = Object.entries<Doc>(doc['components'].examples).map(([name, e]) => ({
      at: name,
      status: String(e['value'].status),
      value: e['value'],
    }));
    expect(catalogue.map((e) => e.value.type)).toEqual(PROBLEM_KINDS.map((kind) => CONTRACT.typePrefix + kind));
    const problems = [...responseExamples(doc).filter((e) => e.status >= '400'), ...catalogue];
    expect(problems.length).toBeGreaterThan(PROBLEM_KINDS.length);
    for (const { at, status, value } of problems) {
      expect(value.status, at).toBe(Number(status));
      expect(value.title, at).toBe(
        CONTRACT.problems[value.type.slice(CONTRACT.typePrefix.length) as 'not-found'].title,
      );
      expect(value.requestId, at).toBeTruthy();
    }
  });

  it("has a 422 example that is the gateway's real answer to the invalid request example", async () => {
    const doc = await documentOf({ SCHEMA_PATH: path, API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' });
    const predict = doc['paths']['/v1/predict'].post;
    const invalid = predict.requestBody.content['application/json'].examples.invalid.value;
    expect(invalid).toEqual(invalidExampleBody(loadModelSchema(path)));
    const res = await request(
      testApp({ SCHEMA_PATH: path, UPSTREAM_URL: upstream.url, API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' }),
    )
      .post('/v1/predict')
      .send(invalid);
    expect(res.status).toBe(422);
    const example = predict.responses['422'].content['application/problem+json'].examples['validation-error'].value;
    const { requestId: _a, ...answer } = res.body;
    const { requestId: _b, ...documented } = example;
    expect(documented).toEqual(answer);
    expect(answer.errors.length).toBeGreaterThanOrEqual(1);
  });
});

describe('/openapi.json for offline development', () => {
  it('bounds integers within Number.MAX_SAFE_INTEGER and names the gateway as its server', async () => {
    const doc = await documentOf({ SCHEMA_PATH: MIXED });
    const row = doc['components'].schemas.FeatureRow;
    const integers = loadModelSchema(MIXED).features.filter((f) => f.type === 'integer');
    expect(integers.length).toBeGreaterThan(0);
    for (const feature of integers) {
      const variants = row.properties[feature.name].anyOf ?? [row.properties[feature.name]];
      const integer = variants.find((v: Doc) => v['type'] === 'integer');
      expect(integer).toMatchObject({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
    }
    expect(doc['servers']).toEqual([{ url: '/', description: 'This gateway' }]);
  });

  it('declares Retry-After on 429 and 503, RateLimit where the limiter sends it, 401 and 429 only when on', async () => {
    const everything = await documentOf({ RATE_LIMIT_MAX: '100' });
    const predict = everything['paths']['/v1/predict'].post.responses;
    expect(Object.keys(predict['429'].headers)).toEqual(
      expect.arrayContaining(['Retry-After', 'RateLimit', 'RateLimit-Policy', 'X-Request-Id']),
    );
    expect(Object.keys(predict['503'].headers)).toContain('Retry-After');
    expect(Object.keys(predict['200'].headers)).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy']));
    expect(predict['401']).toBeDefined();

    // A gateway without keys and without a limit documents neither.
    const open = await documentOf({ API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' });
    const text = JSON.stringify(open['paths']);
    expect(text).not.toContain('"401"');
    expect(text).not.toContain('"429"');
    expect(text).not.toContain('RateLimit-Policy');

    // And what is declared is sent: a real 429 has the headers.
    const limited = testApp({ UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: '1' });
    const row = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
    await request(limited)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .send({ instances: [row] });
    const refused = await request(limited)
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .send({ instances: [row] });
    expect(refused.status).toBe(429);
    for (const name of ['retry-after', 'ratelimit', 'ratelimit-policy'])
      expect(refused.headers[name], name).toBeTruthy();
  });

  it('revalidates /openapi.json and /v1/schema by ETag: 304 without a body when current', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    for (const path of ['/openapi.json', '/v1/schema']) {
      const first = await request(app).get(path).set('X-API-Key', API_KEY);
      expect(first.status, path).toBe(200);
      expect(first.headers['etag'], path).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect(first.headers['cache-control'], path).toBe('private, no-cache');
      const again = await request(app).get(path).set('X-API-Key', API_KEY).set('If-None-Match', first.headers['etag']!);
      expect(again.status, path).toBe(304);
      expect(again.text ?? '', path).toBe('');
      expect(again.headers['etag']).toBe(first.headers['etag']);
      const listed = await request(app)
        .get(path)
        .set('X-API-Key', API_KEY)
        .set('If-None-Match', `"other", W/${first.headers['etag']}`);
      expect(listed.status, path).toBe(304);
      const stale = await request(app).get(path).set('X-API-Key', API_KEY).set('If-None-Match', '"stale"');
      expect(stale.status, path).toBe(200);
    }
    // Another model, another tag.
    const other = await request(testApp({ UPSTREAM_URL: upstream.url, SCHEMA_PATH: MIXED })).get('/openapi.json');
    const iris = await request(app).get('/openapi.json');
    expect(other.headers['etag']).not.toBe(iris.headers['etag']);
    // /v1/schema stays behind the key: a 304 is no way around it.
    const anonymous = await request(app).get('/v1/schema').set('If-None-Match', '*');
    expect(anonymous.status).toBe(401);
  });
});
