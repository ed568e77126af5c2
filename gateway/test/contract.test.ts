// docs/contract.md's "Errors" section, row by row: the order of errors[], the cap, the member order of problem
// bodies and every row of "Edge cases, decided once". Expected sentences come from contract.json through the
// test oracle (helpers/contract-oracle.ts), never from src/, so a wrong sentence in the gateway shows here.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, irisRow, listen, testApp } from './helpers/app.js';
import { CONTRACT_JSON, contractDetail, expectedProblemText, sentence } from './helpers/contract-oracle.js';
import { rawRequest } from './helpers/raw-http.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { bodyErrorToProblem } from '../src/body.js';
import { CONTRACT, CONTRACT_URL, fill, parseContract } from '../src/contract.js';
import { loadModelSchema, parseModelSchema } from '../src/schema/load.js';

let upstream: FakeUpstream;
let app: ReturnType<typeof testApp>;
let server: { url: string; close(): Promise<void> };
const agent = new http.Agent({ keepAlive: true });
const iris = loadModelSchema(IRIS);

beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
  app = testApp({ UPSTREAM_URL: upstream.url });
  server = await listen(app);
});
afterAll(async () => {
  agent.destroy();
  await server.close();
  await upstream.close();
});

const valid = JSON.stringify({ instances: [irisRow()] });

/** Exactly these bytes and headers to POST /v1/predict (or `path`), with a known request id. */
function send(
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  options: { method?: string; path?: string } = {},
) {
  return rawRequest(agent, server.url, {
    method: options.method ?? 'POST',
    path: options.path ?? '/v1/predict',
    headers: { 'x-api-key': API_KEY, 'x-request-id': 'req-1', ...headers },
    ...(options.method === 'GET' || options.method === 'HEAD' ? {} : { body }),
  });
}

const problemText = (kind: string, detailKey: string, values: Record<string, string | number> = {}) =>
  expectedProblemText(kind, contractDetail(detailKey, values), { requestId: 'req-1' });

describe('contract.json', () => {
  it('is the file next to package.json, read from src/ and from the built dist/ alike', async () => {
    expect(CONTRACT_URL.pathname).toBe(resolve(import.meta.dirname, '..', 'contract.json'));
    expect(CONTRACT).toEqual(JSON.parse(readFileSync(CONTRACT_URL, 'utf8')));
    // npm test builds first; the server EB runs is dist/server.js.
    const built = (await import('../dist/contract.js' as string)) as { CONTRACT: unknown };
    expect(built.CONTRACT).toEqual(CONTRACT);
  });

  it('is checked at start-up: a missing or unknown sentence, a wrong limit or type is refused with the key named', () => {
    const good = JSON.parse(readFileSync(CONTRACT_URL, 'utf8')) as Record<string, any>;
    const broken = (change: (c: Record<string, any>) => void) => {
      const copy = structuredClone(good);
      change(copy);
      return () => parseContract(copy, 'contract.json');
    };
    expect(parseContract(good)).toEqual(good);
    expect(broken((c) => delete c['details']['too-deep'])).toThrow(/details.*too-deep|too-deep/);
    expect(broken((c) => (c['errors']['row.unknown_column'] = 'x'))).toThrow(/errors/);
    expect(broken((c) => delete c['problems']['not-found'])).toThrow(/problems/);
    expect(broken((c) => (c['maxNestingDepth'] = 2))).toThrow(/maxNestingDepth/);
    expect(broken((c) => (c['problems']['validation-error']['status'] = '422'))).toThrow(
      /problems\.validation-error\.status/,
    );
  });

  it('fills placeholders in one pass, so a filled-in value is never read as a placeholder', () => {
    expect(fill('{count} of {count}; {other}', { count: 3 })).toBe('3 of 3; {other}');
    expect(fill(CONTRACT.errors['feature.unknown_category'], { categories: '{count}, b' })).toBe(
      'must be one of: {count}, b',
    );
  });
});

async function errorsOf(body: string) {
  const answer = await send(body);
  expect(answer.status, answer.text).toBe(422);
  return (JSON.parse(answer.text) as { errors: Array<{ pointer: string; code: string }> }).errors.map(
    (e) => `${e.pointer} ${e.code}`,
  );
}

describe('errors[] order (docs/contract.md: document, /instances, unknown members sorted, then row by row)', () => {
  it('sorts unknown members by UTF-16 code units, whatever order they came in and however JSON.parse reorders them', async () => {
    // V8 puts integer-like keys first, ascending ("1", "9", "10"); the contract says "1", "10", "9". Four names for
    // iris's four features: each member is looked at.
    const required = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map(
      (f) => `/instances/0/${f} required`,
    );
    const text = `{"instances":[{"9":1,"é":1,"10":1,"1":1},{"zeta":1,"~":1,"Zeta":1},7]}`;
    expect(await errorsOf(text)).toEqual([
      ...required,
      '/instances/0/1 unknown_field',
      '/instances/0/10 unknown_field',
      '/instances/0/9 unknown_field',
      '/instances/0/é unknown_field',
      ...required.map((r) => r.replace('/0/', '/1/')),
      '/instances/1/Zeta unknown_field',
      '/instances/1/zeta unknown_field',
      '/instances/1/~0 unknown_field',
      '/instances/2 not_an_object',
    ]);
    expect(await errorsOf('{"10":1}')).toEqual(['/instances required', '/10 unknown_field']);
  });

  it('sorts names as sent (before ~0/~1 escaping) by UTF-16 code units, not by code points', async () => {
    // "a/b" < "a0" as names ('/' < '0'), though "/a~1b" > "/a0" as pointers. U+1F600 is the surrogate pair
    // D83D DE00, which sorts before U+FB01 in UTF-16 (and after it by code point, as Python's default sort would).
    const text = JSON.stringify({ instances: [{ a0: 1, 'a/b': 1, '\uFB01': 1, '\u{1F600}': 1 }] });
    expect((await errorsOf(text)).slice(4)).toEqual(
      ['a/b', 'a0', '\u{1F600}', '\uFB01'].map(
        (k) => `/instances/0/${k.replace(/~/g, '~0').replace(/\//g, '~1')} unknown_field`,
      ),
    );
  });

  it("lists a row's features in schema order before its unknown members, and rows in order", async () => {
    const text = '{"instances":[{"petal_width":"x","zz":1,"sepal_width":null,"aa":1},{"sepal_length":true}]}';
    expect(await errorsOf(text)).toEqual([
      '/instances/0/sepal_length required',
      '/instances/0/sepal_width not_nullable',
      '/instances/0/petal_length required',
      '/instances/0/petal_width not_a_number',
      '/instances/0/aa unknown_field',
      '/instances/0/zz unknown_field',
      '/instances/1/sepal_length not_a_number',
      '/instances/1/sepal_width required',
      '/instances/1/petal_length required',
      '/instances/1/petal_width required',
    ]);
  });

  it("/instances comes before the document's unknown member; more than one member is refused whole; with too many rows, nothing per row", async () => {
    expect(await errorsOf('{"instances":"rows"}')).toEqual(['/instances not_an_array']);
    expect(await errorsOf('{"b":1}')).toEqual(['/instances required', '/b unknown_field']);
    expect(await errorsOf('{"b":1,"instances":"rows","a":1}')).toEqual([' too_many_members']);
    expect(await errorsOf('{"b":1,"a":1}')).toEqual([' too_many_members']);
    const rows = Array.from({ length: iris.limits.maxRows + 1 }, () => '{"x":1,"y":1}').join(',');
    expect(await errorsOf(`{"instances":[${rows}]}`)).toEqual(['/instances too_many_rows']);
    // The document pointer is "" (RFC 6901), so the line starts with the space.
    expect(await errorsOf('[{"instances":[]}]')).toEqual([' not_an_object']);
  });
});

describe('cheap refusals: objects with more members than allowed are refused by their count (docs/contract.md)', () => {
  it('a row with more members than the model has features gets one short error, no name echoed', async () => {
    const extra = '"a":1,"b":1,"c":1';
    const text = `{"instances":[${valid.slice(14, -2)},${valid.slice(14, -3)},${extra}}]}`;
    const detail = sentence(CONTRACT_JSON.errors['row.too_many_members']!, { features: 4 });
    expect((await send(text)).text).toBe(
      expectedProblemText('validation-error', '1 problem; see errors', {
        errors: [{ pointer: '/instances/1', code: 'too_many_members', detail }],
        requestId: 'req-1',
      }),
    );
  });

  it("the review's body: one row of 90,000 unknown names is refused before it is parsed, nothing sent upstream", async () => {
    const names = Array.from({ length: 90_000 }, (_, i) => i.toString(36));
    const text = `{"instances":[${valid.slice(14, -2)},{${names.map((k) => `"${k}":0`).join(',')}}]}`;
    expect(text.length).toBeLessThan(iris.limits.maxBodyBytes);
    const answer = await send(text);
    const detail = sentence(CONTRACT_JSON.details['too-many-members']!, { maxRows: iris.limits.maxRows });
    expect(answer.text).toBe(expectedProblemText('body-too-large', detail, { requestId: 'req-1' }));
    expect(answer.status).toBe(413);
    expect(upstream.calls).toHaveLength(0);
  });

  it("the bound is exact: as many ':' as maxRows rows hold are parsed and validated, one more is refused", async () => {
    // maxRows iris rows hold 1 + 4 x maxRows ':', the most a valid request can (numbers hold none).
    const row = irisRow();
    const rows = Array.from({ length: iris.limits.maxRows }, () => ({ ...row }));
    (rows[0] as Record<string, unknown>)['sepal_length'] = 'x';
    const atBound = JSON.stringify({ instances: rows });
    expect(await errorsOf(atBound)).toEqual(['/instances/0/sepal_length not_a_number']);
    const past = `${atBound.slice(0, -3)},"":1}]}`; // one member more, in the last row
    expect((await send(past)).status).toBe(413);
    expect((await send(atBound.replace('"x"', '":"'))).status).toBe(413); // a ':' inside a string counts too
  });

  it('echoes a long unknown name cut to maxEchoedNameLength code points, counting a surrogate pair once', async () => {
    const limit = CONTRACT_JSON.maxEchoedNameLength;
    const name = `\u{1F600}${'n'.repeat(100_000)}`;
    const text = JSON.stringify({ instances: [{ sepal_length: 1, sepal_width: 1, petal_length: 1, [name]: 1 }] });
    const cut = [...name].slice(0, limit).join('');
    expect(await errorsOf(text)).toEqual([
      '/instances/0/petal_width required',
      `/instances/0/${cut}\u2026 unknown_field`,
    ]);
  });
});

describe('the cap: at most maxErrors entries, errorsOmitted counts the rest', () => {
  it('250 bad rows: the first 100 problems in order, errorsOmitted 150, and the capped detail', async () => {
    const rows = Array.from({ length: 250 }, () => '{"sepal_length":1,"sepal_width":1,"petal_length":1}');
    const answer = await send(`{"instances":[${rows.join(',')}]}`);
    expect(answer.status).toBe(422);
    const errors = Array.from({ length: CONTRACT_JSON.maxErrors }, (_, i) => ({
      pointer: `/instances/${i}/petal_width`,
      code: 'required',
      detail: CONTRACT_JSON.errors['feature.required']!,
    }));
    const detail = sentence(CONTRACT_JSON.details['validation-error.capped']!, { count: 250, maxErrors: 100 });
    expect(detail).toBe('250 problems; the first 100 are listed in errors');
    expect(answer.text).toBe(
      expectedProblemText('validation-error', detail, { errors, errorsOmitted: 150, requestId: 'req-1' }),
    );
    expect(Object.keys(JSON.parse(answer.text))).toEqual([
      'type',
      'title',
      'status',
      'detail',
      'errors',
      'errorsOmitted',
      'requestId',
    ]);
    expect(upstream.calls).toHaveLength(0);
  });

  it('exactly maxErrors is listed in full; one more is capped', async () => {
    const body = (n: number) =>
      `{"instances":[${Array.from({ length: n }, () => '{"sepal_length":1,"sepal_width":1,"petal_length":1}').join(',')}]}`;
    const full = JSON.parse((await send(body(100))).text) as Record<string, unknown>;
    expect(full['detail']).toBe('100 problems; see errors');
    expect(full).not.toHaveProperty('errorsOmitted');
    expect(full['errors']).toHaveLength(100);
    const capped = JSON.parse((await send(body(101))).text) as Record<string, unknown>;
    expect(capped['detail']).toBe('101 problems; the first 100 are listed in errors');
    expect(capped['errorsOmitted']).toBe(1);
    expect((capped['errors'] as Array<{ pointer: string }>).at(-1)!.pointer).toBe('/instances/99/petal_width');
    expect(JSON.parse((await send('{"instances":[{"x":1}]}')).text).detail).toBe('5 problems; see errors');
    expect(JSON.parse((await send('{"instances":[]}')).text).detail).toBe('1 problem; see errors');
  });
});

describe('categories: listed up to maxListedCategories, counted beyond', () => {
  const schemaWith = (n: number) =>
    parseModelSchema({
      ...iris,
      features: [
        { name: 'c', type: 'category', nullable: false, categories: Array.from({ length: n }, (_, i) => `c${i}`) },
      ],
    });
  it.each([
    [CONTRACT_JSON.maxListedCategories, `must be one of: ${Array.from({ length: 20 }, (_, i) => `c${i}`).join(', ')}`],
    [CONTRACT_JSON.maxListedCategories + 1, 'must be one of the 21 categories listed in the schema'],
  ])('%i categories', async (n, detail) => {
    const res = await request(testApp({ UPSTREAM_URL: upstream.url }, { schema: schemaWith(n) }))
      .post('/v1/predict')
      .set('X-API-Key', API_KEY)
      .send({ instances: [{ c: 'nope' }] });
    expect(res.body.errors).toEqual([{ pointer: '/instances/0/c', code: 'unknown_category', detail }]);
  });
});

describe('edge cases, decided once (docs/contract.md)', () => {
  it('a UTF-8 byte order mark before the JSON is ignored', async () => {
    expect((await send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]))).status).toBe(200);
  });

  it.each([
    'application/json; charset=utf-8',
    'application/json; charset=utf8',
    'application/json;charset=UTF-8',
    'Application/JSON; Charset="utf-8"',
    'application/json ;\tcharset\t=\t"UTF8"',
    'application/json; foo=bar; charset=utf-8',
    'application/json; charset=utf-8; charset=latin1', // the first charset counts
    'application/json; charset=""', // no charset value: as if there were none
  ])('Content-Type %j is accepted', async (contentType) => {
    expect((await send(valid, { 'content-type': contentType })).status).toBe(200);
  });

  it.each([
    'application/json; charset=latin1',
    'application/json; charset="iso-8859-1"',
    'application/json; charset=utf-16',
    'application/json; charset=latin1; charset=utf-8',
    'application/json; x="a;charset=latin1"', // the rule is a plain pattern, quoted or not
    'text/plain',
    'application/vnd.api+json',
    'application/json+x',
    'application/jsonx',
    'application/json\u00a0', // only space and tab are optional whitespace, not every Unicode space
    '',
  ])('Content-Type %j is a 415', async (contentType) => {
    const answer = await send(valid, { 'content-type': contentType });
    expect(answer.status).toBe(415);
    expect(answer.text).toBe(problemText('unsupported-media-type', 'unsupported-media-type'));
  });

  it('no Content-Type is a 415', async () => {
    const answer = await send(valid, {});
    expect(answer.text).toBe(problemText('unsupported-media-type', 'unsupported-media-type'));
  });

  it.each([
    ['gzip', gzipSync(valid)],
    ['GZIP', gzipSync(valid)],
    ['deflate', deflateSync(valid)],
    ['identity', Buffer.from(valid)],
    ['', Buffer.from(valid)],
  ])('Content-Encoding %j is accepted', async (encoding, bytes) => {
    expect((await send(bytes, { 'content-type': 'application/json', 'content-encoding': encoding })).status).toBe(200);
  });

  it.each(['br', 'gzip, gzip', 'identity, gzip', 'x-gzip', 'compress', 'zstd', '*'])(
    'Content-Encoding %j is a 415, before the body is read',
    async (encoding) => {
      const answer = await send(gzipSync(valid), { 'content-type': 'application/json', 'content-encoding': encoding });
      expect(answer.status).toBe(415);
      expect(answer.text).toBe(problemText('unsupported-media-type', 'unsupported-encoding'));
    },
  );

  it('a compressed body that does not decompress is a 400; the size limit applies to the decompressed body', async () => {
    const corrupt = await send(Buffer.from('not gzip at all'), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(corrupt.text).toBe(problemText('malformed-json', 'bad-compression'));
    const bomb = gzipSync(`{"instances":[],"pad":"${' '.repeat(iris.limits.maxBodyBytes)}"}`);
    expect(bomb.length).toBeLessThan(10_000);
    const large = await send(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(large.status).toBe(413);
    expect(large.text).toBe(
      problemText('body-too-large', 'body-too-large', { maxBodyBytes: iris.limits.maxBodyBytes }),
    );
    expect(JSON.parse(large.text).detail).toBe('The body is larger than 1048576 bytes; send fewer rows per request.');
  });

  it("a body not received completely is a 400 incomplete-body (body-parser's aborted and size errors)", () => {
    for (const type of ['request.aborted', 'request.size.invalid']) {
      expect(bodyErrorToProblem({ type, status: 400 }, 1)?.problem).toEqual(
        JSON.parse(expectedProblemText('malformed-json', contractDetail('incomplete-body'))),
      );
    }
  });

  describe('nesting deeper than maxNestingDepth (32)', () => {
    const nested = (levels: number, inner = '') => '['.repeat(levels) + inner + ']'.repeat(levels);
    it('32 levels is a 422, 33 a 400, counted from the document (a valid body nests 3)', async () => {
      // {"instances":[ is 2 levels, so the feature value adds 30 or 31 more to the row's 1.
      const at = (levels: number) =>
        `{"instances":[{"sepal_length":${nested(levels)},"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}`;
      const ok = await send(at(29));
      expect(ok.status).toBe(422);
      expect(JSON.parse(ok.text).errors).toEqual([
        { pointer: '/instances/0/sepal_length', code: 'not_a_number', detail: 'must be a number' },
      ]);
      expect((await send(at(30))).text).toBe(problemText('malformed-json', 'too-deep'));
      expect((await send(nested(32))).status).toBe(422);
      expect((await send(nested(33))).text).toBe(problemText('malformed-json', 'too-deep'));
      expect(JSON.parse((await send(nested(33))).text).detail).toBe(
        'The body nests arrays and objects more than 32 levels deep.',
      );
    });

    it('wins over a 422 with many errors and over malformed JSON; brackets inside strings do not count', async () => {
      const deepUnknown = `{"instances":[{}],${Array.from({ length: 200 }, (_, i) => `"k${i}":1`).join(',')},"deep":${nested(40)}}`;
      expect((await send(deepUnknown)).text).toBe(problemText('malformed-json', 'too-deep'));
      expect((await send(nested(200_000).slice(0, -1))).text).toBe(problemText('malformed-json', 'too-deep'));
      expect((await send(`{"instances":[${'{"a":'.repeat(40)}`)).text).toBe(problemText('malformed-json', 'too-deep'));
      expect((await send('{"instances":[')).text).toBe(problemText('malformed-json', 'malformed-json'));
      const inString = await send(`{"instances":[{"sepal_length":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}]}`);
      expect(inString.status).toBe(422);
      // An unterminated string hides the brackets after it, too.
      expect((await send(`{"instances":"${'['.repeat(100)}`)).text).toBe(
        problemText('malformed-json', 'malformed-json'),
      );
    });

    it('200,000 levels answer quickly (no recursion anywhere)', async () => {
      const started = Date.now();
      expect((await send(nested(200_000))).text).toBe(problemText('malformed-json', 'too-deep'));
      expect((await send(`${'{"a":'.repeat(1_000)}1${'}'.repeat(1_000)}`)).text).toBe(
        problemText('malformed-json', 'too-deep'),
      );
      // 100,000 nested objects hold 100,000 ':', more than any valid request: refused before the nesting is measured
      expect((await send(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`)).status).toBe(413);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });

  it('magnitudes are compared as doubles: the text is rounded to the nearest double first', async () => {
    const at = (n: string) =>
      send(`{"instances":[{"sepal_length":${n},"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}`);
    // float32's largest value exactly, and an integer one above it that rounds to the same double: accepted.
    for (const ok of [
      '3.4028234663852886e38',
      '-340282346638528859811704183484516925440',
      '340282346638528859811704183484516925441',
    ])
      expect((await at(ok)).status, ok).toBe(200);
    // numpy prints float32's largest value as 3.4028235e38, which is above it as a double.
    for (const bad of ['3.4028235e38', '1e39', `1${'0'.repeat(400)}`])
      expect(JSON.parse((await at(bad)).text).errors[0].code, bad).toBe('not_finite');
  });

  it.each(['NaN', 'Infinity', '-Infinity'])('the literal %s is a 400 malformed-json', async (literal) => {
    const answer = await send(valid.replace('5.1', literal));
    expect(answer.text).toBe(problemText('malformed-json', 'malformed-json'));
  });

  it('duplicate member names: the last one counts', async () => {
    const before = upstream.calls.length;
    const answer = await send(
      '{"instances":"no","instances":[{"sepal_length":"x","sepal_length":6.5,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]}',
    );
    expect(answer.status).toBe(200);
    expect(upstream.calls.slice(before).map((c) => c.rows)).toEqual([
      [{ sepal_length: 6.5, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }],
    ]);
  });

  it.each([
    '/v1/predict/',
    '/V1/Predict',
    '/V1/predict',
    '//v1/predict',
    '/v1//predict',
    '/v1/%70redict',
    '/v1/predict%2F',
    '/v1/predict;x',
    '/v1/schema/',
    '/health/live/',
    '/Health/Live',
    '/openapi.json/',
    '/docs/',
    '/Docs',
    '/metrics/',
  ])('%s is a 404, for every method', async (path) => {
    for (const method of ['POST', 'GET']) {
      const answer = await send(valid, { 'content-type': 'application/json' }, { method, path });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.text).toBe(problemText('not-found', 'not-found'));
    }
  });

  it('a query string is ignored', async () => {
    expect((await send(valid, { 'content-type': 'application/json' }, { path: '/v1/predict?x=1&debug' })).status).toBe(
      200,
    );
    expect((await send('', {}, { method: 'GET', path: '/health/live?x=1' })).status).toBe(200);
  });

  it.each([
    ['GET', '/v1/predict', 'POST'],
    ['PUT', '/v1/predict', 'POST'],
    ['HEAD', '/v1/predict', 'POST'],
    ['OPTIONS', '/v1/predict', 'POST'],
    ['POST', '/v1/schema', 'GET, HEAD'],
    ['PUT', '/docs', 'GET, HEAD'],
    ['POST', '/docs', 'GET, HEAD'],
    ['DELETE', '/docs/assets/docs.js', 'GET, HEAD'],
    ['POST', '/docs/assets/docs.css', 'GET, HEAD'],
    ['POST', '/health/live', 'GET, HEAD'],
    ['DELETE', '/health/ready', 'GET, HEAD'],
    ['POST', '/openapi.json', 'GET, HEAD'],
    ['PATCH', '/metrics', 'GET, HEAD'],
  ])('%s %s is a 405 with Allow: %s', async (method, path, allow) => {
    const answer = await send(valid, { 'content-type': 'application/json' }, { method, path });
    expect(answer.status).toBe(405);
    expect(answer.headers['allow']).toBe(allow);
    if (method !== 'HEAD') expect(answer.text).toBe(problemText('method-not-allowed', 'method-not-allowed'));
  });

  it('the methods Allow names for a GET path are answered (HEAD too)', async () => {
    for (const path of ['/health/live', '/openapi.json', '/docs', '/docs/assets/docs.js', '/v1/schema', '/metrics']) {
      for (const method of ['GET', 'HEAD'])
        expect((await send('', {}, { method, path })).status, `${method} ${path}`).toBe(200);
    }
    expect((await send('', {}, { method: 'PUT', path: '/docs/assets/missing.js' })).status).toBe(404);
  });
});
