// API keys and rate limits cannot be bypassed, and neither logs nor answers carry submitted values or secrets.
// (auth.test.ts and ratelimit.test.ts cover the ordinary cases; this file is the attacker's view.)
import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, MIXED, OTHER_KEY, capturedLines, irisRow, listen, testApp } from './helpers/app.js';
import { problemDefects } from './helpers/contract-oracle.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { sha256Hex } from '../src/auth.js';
import { createLogger } from '../src/logging.js';

let upstream: FakeUpstream;
let mixedUpstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
  mixedUpstream = await startFakeUpstream(MIXED);
});
afterAll(async () => {
  await upstream.close();
  await mixedUpstream.close();
});
beforeEach(() => {
  upstream.reset();
  mixedUpstream.reset();
});

const body = { instances: [irisRow()] };
const text = JSON.stringify(body);

/** Sends bytes exactly as given (header lines Node's client would refuse or normalise) and returns the status line's code. */
function rawStatus(url: string, head: string, payload = text): Promise<{ status: number; raw: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      // One answer is all that is wanted; stop at the end of its body (Content-Length) or when the server closes.
      const m = /^HTTP\/1\.1 (\d{3})[\s\S]*?\r\n\r\n/.exec(got);
      const length = /\r\ncontent-length: *(\d+)/i.exec(got)?.[1];
      if (m && length !== undefined && got.length >= m[0].length + Number(length)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), raw: got }));
    socket.write(
      `POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n${head}\r\n${payload}`,
    );
  });
}

describe('API keys cannot be bypassed', () => {
  it('the header name is case-insensitive (HTTP says so), but look-alike names are not the key header', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    for (const name of ['x-api-key', 'X-API-KEY', 'x-Api-kEY']) {
      expect((await request(app).post('/v1/predict').set(name, API_KEY).send(body)).status, name).toBe(200);
    }
    const before = upstream.calls.length;
    for (const name of [
      'X_API_KEY',
      'X-API-Keys',
      'API-Key',
      'X-Api-Key-Override',
      'X-Forwarded-Api-Key',
      'X-API%2DKey',
      'Api_Key',
      'Proxy-Authorization',
      'Cookie',
    ]) {
      const res = await request(app)
        .post('/v1/predict')
        .set(name, name === 'Cookie' ? `x-api-key=${API_KEY}` : API_KEY)
        .send(body);
      expect(res.status, name).toBe(401);
      expect(problemDefects(res.status, res.headers['content-type'], res.text)).toEqual([]);
      expect(res.text).not.toContain(API_KEY);
    }
    // Nor the query string.
    expect((await request(app).post(`/v1/predict?api_key=${API_KEY}&x-api-key=${API_KEY}`).send(body)).status).toBe(
      401,
    );
    expect(upstream.calls.length).toBe(before);
  });

  it('header values: surrounding whitespace is HTTP framing (stripped), anything else in or around the key fails', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const server = await listen(app);
    try {
      // Optional whitespace around a field value is not part of it (RFC 9110 5.5), so these present the real key.
      for (const value of [` ${API_KEY}`, `${API_KEY} `, `\t${API_KEY}\t`]) {
        expect((await rawStatus(server.url, `X-API-Key:${value}\r\n`)).status, JSON.stringify(value)).toBe(200);
      }
      const before = upstream.calls.length;
      const refused = [
        `${API_KEY.slice(0, 5)} ${API_KEY.slice(5)}`, // inner space
        `${API_KEY}\u00a0`, // no-break space (a byte, not whitespace, in a header)
        `\u00a0${API_KEY}`,
        `${API_KEY}\u000b`, // vertical tab
        `"${API_KEY}"`,
        `${API_KEY},`,
        `${API_KEY}, ${API_KEY}`,
        `${API_KEY};`,
        API_KEY.replace(/-/g, '\u2010'), // Unicode hyphen look-alike (sent as its UTF-8 bytes)
        API_KEY.replace('t', 'T'),
        encodeURIComponent(API_KEY).replace(/-/g, '%2D'),
        Buffer.from(API_KEY).toString('base64'),
        sha256Hex(API_KEY),
        `${API_KEY}\u0000`,
      ];
      for (const value of refused) {
        const bytes = Buffer.from(value, 'utf8').toString('latin1');
        const { status, raw } = await rawStatus(server.url, `X-API-Key: ${bytes}\r\n`);
        // 401 from the gateway, or 400 from Node's HTTP parser for bytes a header may not hold; never a success.
        expect([400, 401], `${JSON.stringify(value)} -> ${raw.slice(0, 120)}`).toContain(status);
        expect(raw).not.toContain(API_KEY.slice(4));
      }
      // The header twice: Node joins the values ("a, b"), which is no key; neither the first nor the last wins.
      for (const pair of [
        [API_KEY, 'wrong'],
        ['wrong', API_KEY],
        [API_KEY, API_KEY],
      ]) {
        expect(
          (await rawStatus(server.url, `X-API-Key: ${pair[0]}\r\nX-API-Key: ${pair[1]}\r\n`)).status,
          pair.join(' + '),
        ).toBe(401);
      }
      // An obsolete line fold is a parse error for Node, not a continuation of the key.
      expect(
        (await rawStatus(server.url, `X-API-Key: ${API_KEY.slice(0, 6)}\r\n ${API_KEY.slice(6)}\r\n`)).status,
      ).not.toBe(200);
      expect(upstream.calls.length).toBe(before);
    } finally {
      await server.close();
    }
  });

  it('Authorization: only "Bearer <key>" (scheme in any case) carries a key; every other shape is refused', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    for (const value of [
      `Bearer ${API_KEY}`,
      `bearer ${API_KEY}`,
      `BEARER ${API_KEY}`,
      `bEaReR ${OTHER_KEY}`,
      `Bearer  ${API_KEY}`,
    ]) {
      expect((await request(app).post('/v1/predict').set('Authorization', value).send(body)).status, value).toBe(200);
    }
    const before = upstream.calls.length;
    for (const value of [
      `Bearer`,
      `Bearer `,
      `Bearer${API_KEY}`,
      `Bearer\t${API_KEY}`,
      `Bearer ${API_KEY} x`,
      `Bearer ${API_KEY},Bearer ${API_KEY}`,
      `Bearer "${API_KEY}"`,
      `Bearer ${API_KEY.toUpperCase()}`,
      `Bearer: ${API_KEY}`,
      `Token ${API_KEY}`,
      `ApiKey ${API_KEY}`,
      `X-API-Key ${API_KEY}`,
      `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`,
      `Basic ${Buffer.from(`:${API_KEY}`).toString('base64')}`,
      `Basic ${API_KEY}`,
      `Digest username="${API_KEY}"`,
      `${API_KEY}`,
      `Bearer ${encodeURIComponent(API_KEY).replace(/-/g, '%2D')}`,
      `Bearer ${Buffer.from(API_KEY).toString('base64')}`,
    ]) {
      const res = await request(app).post('/v1/predict').set('Authorization', value).send(body);
      expect(res.status, value).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    }
    // X-API-Key, when present, is the key: a wrong one is not rescued by a good bearer token.
    expect(
      (
        await request(app)
          .post('/v1/predict')
          .set('X-API-Key', 'wrong')
          .set('Authorization', `Bearer ${API_KEY}`)
          .send(body)
      ).status,
    ).toBe(401);
    expect(upstream.calls.length).toBe(before);
  });

  it('path spellings reach either the protected route (and need the key) or nothing; none answers without a key', async () => {
    const app = testApp({ UPSTREAM_URL: upstream.url });
    const server = await listen(app);
    try {
      const paths = [
        '/v1/predict',
        '/V1/PREDICT',
        '/v1/predict/',
        '/v1//predict',
        '//v1/predict',
        '/v1/./predict',
        '/./v1/predict',
        '/v1/%2e/predict',
        '/%761/predict',
        '/v1/%70redict',
        '/v1/predict;',
        '/v1/predict%20',
        '/v1/predict%00',
        '/v1%2fpredict',
        '/v1/schema',
        '/V1/Schema/',
        '/metrics',
        '/METRICS',
        '/metrics/',
        '/metrics%2f',
      ];
      const before = upstream.calls.length;
      for (const path of paths) {
        for (const method of ['GET', 'POST', 'HEAD', 'PUT']) {
          const res = await new Promise<{ status: number; type: string | undefined; text: string }>(
            (resolve, reject) => {
              const withBody = method !== 'GET' && method !== 'HEAD';
              const headers = {
                'content-type': 'application/json',
                ...(withBody ? { 'content-length': String(text.length) } : {}),
              };
              const req = http.request(
                { host: '127.0.0.1', port: new URL(server.url).port, method, path, headers, agent: false },
                (r) => {
                  let t = '';
                  r.on('data', (c: Buffer) => (t += c.toString()));
                  r.on('end', () => resolve({ status: r.statusCode!, type: r.headers['content-type'], text: t }));
                },
              );
              req.on('error', reject);
              req.end(withBody ? text : undefined);
            },
          );
          expect([401, 404], `${method} ${path}`).toContain(res.status);
          if (method !== 'HEAD')
            expect(problemDefects(res.status, res.type ?? null, res.text), `${method} ${path}`).toEqual([]);
        }
      }
      expect(upstream.calls.length).toBe(before);
    } finally {
      await server.close();
    }
  });
});

describe('rate limits cannot be bypassed', () => {
  const keyed = (max: number, env: Record<string, string> = {}) =>
    testApp({ UPSTREAM_URL: upstream.url, RATE_LIMIT_MAX: String(max), ...env });
  const anonymous = (max: number, env: Record<string, string> = {}) =>
    testApp({
      UPSTREAM_URL: upstream.url,
      API_KEY_HASHES: '',
      ALLOW_ANONYMOUS: 'true',
      RATE_LIMIT_MAX: String(max),
      ...env,
    });

  it('a key has one budget per client however it is spelled or whatever the request claims about where it comes from', async () => {
    const app = keyed(6, { TRUST_PROXY: '2' });
    // Behind the ALB and nginx (TRUST_PROXY=2) the client is the entry the ALB appended, before its own: whatever a
    // caller writes in front of it, or in other headers, is not believed.
    const via = (forged = '') => ({ 'X-Forwarded-For': `${forged}198.51.100.1, 10.0.0.1` });
    const spellings: Array<Record<string, string>> = [
      { 'X-API-Key': API_KEY, ...via() },
      { 'x-api-key': API_KEY, ...via('203.0.113.9, ') },
      { Authorization: `Bearer ${API_KEY}`, ...via() },
      { Authorization: `bearer ${API_KEY}`, ...via('198.51.100.2, 198.51.100.3, ') },
      {
        'X-API-KEY': API_KEY,
        ...via(),
        'X-Real-IP': '198.51.100.4',
        Forwarded: 'for=198.51.100.5',
        'True-Client-IP': '198.51.100.6',
      },
      { Authorization: `BEARER  ${API_KEY}`, ...via('::1, ') },
    ];
    for (const headers of spellings)
      expect((await request(app).post('/v1/predict').set(headers).send(body)).status).toBe(200);
    for (const headers of spellings) {
      const res = await request(app).post('/v1/predict').set(headers).send(body);
      expect(res.status, JSON.stringify(headers)).toBe(429);
      expect(problemDefects(res.status, res.headers['content-type'], res.text)).toEqual([]);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The other key's budget is its own, and so is this key's from another client (a leaked key locks out no one else).
    expect(
      (
        await request(app)
          .post('/v1/predict')
          .set({ 'X-API-Key': OTHER_KEY, ...via() })
          .send(body)
      ).status,
    ).toBe(200);
    const elsewhere = { 'X-API-Key': API_KEY, 'X-Forwarded-For': '198.51.100.77, 10.0.0.1' };
    expect((await request(app).post('/v1/predict').set(elsewhere).send(body)).status).toBe(200);
  });

  it('requests the gateway refuses (422, 400, 413, 415) spend the budget too, so probing is limited as well', async () => {
    const app = keyed(4);
    const k = { 'X-API-Key': API_KEY };
    expect((await request(app).post('/v1/predict').set(k).send({ instances: [] })).status).toBe(422);
    expect(
      (await request(app).post('/v1/predict').set(k).set('Content-Type', 'application/json').send('{"instances":'))
        .status,
    ).toBe(400);
    expect((await request(app).post('/v1/predict').set(k).set('Content-Type', 'text/plain').send(text)).status).toBe(
      415,
    );
    expect(
      (
        await request(app)
          .post('/v1/predict')
          .set(k)
          .set('Content-Type', 'application/json')
          .send(`{"instances":[],"pad":"${'x'.repeat(1_100_000)}"}`)
      ).status,
    ).toBe(413);
    expect((await request(app).post('/v1/predict').set(k).send(body)).status).toBe(429);
  });

  it('wrong and missing keys are rate limited by address, so key guessing is bounded; a valid key keeps its own budget', async () => {
    const app = keyed(4, { TRUST_PROXY: '1' });
    const from = (address: string) => ({ 'X-Forwarded-For': address });
    const guesses = [
      () => request(app).post('/v1/predict').set(from('203.0.113.7')).set('X-API-Key', 'guess-1').send(body),
      () => request(app).post('/v1/predict').set(from('203.0.113.7')).set('Authorization', 'Bearer guess-2').send(body),
      () => request(app).get('/v1/schema').set(from('203.0.113.7')).set('X-API-Key', 'guess-3'),
      () => request(app).get('/metrics').set(from('203.0.113.7')).set('X-API-Key', 'guess-4'),
    ];
    for (const guess of guesses) expect((await guess()).status).toBe(401);
    // The address's budget is spent: every further guess, on any guarded path, is refused unchecked.
    for (const guess of [...guesses, () => request(app).post('/v1/predict').set(from('203.0.113.7')).send(body)]) {
      const res = await guess();
      expect(res.status).toBe(429);
      expect(problemDefects(res.status, res.headers['content-type'], res.text)).toEqual([]);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The right key from the same address is counted under the key, and another address has its own budget.
    expect(
      (await request(app).post('/v1/predict').set(from('203.0.113.7')).set('X-API-Key', API_KEY).send(body)).status,
    ).toBe(200);
    expect((await request(app).get('/metrics').set(from('203.0.113.7')).set('X-API-Key', API_KEY)).status).toBe(200);
    expect(
      (await request(app).post('/v1/predict').set(from('203.0.113.8')).set('X-API-Key', 'guess-5').send(body)).status,
    ).toBe(401);
  });

  it('the Prometheus scraper with the right key is not rate limited on /metrics', async () => {
    const app = keyed(2);
    for (let i = 0; i < 5; i++) expect((await request(app).get('/metrics').set('X-API-Key', API_KEY)).status).toBe(200);
  });

  describe('anonymous callers behind the EB proxy chain (TRUST_PROXY=2: ALB appends the client, nginx appends the ALB)', () => {
    // What reaches the gateway: X-Forwarded-For = <whatever the client sent>, <client address as the ALB saw it>, <ALB>
    const viaChain = (client: string, spoofed?: string) => ({
      'X-Forwarded-For': [spoofed, client, '10.0.1.17'].filter((p) => p !== undefined).join(', '),
    });
    const spoofs = [
      undefined,
      '1.2.3.4',
      '1.2.3.4, 5.6.7.8',
      '203.0.113.99',
      'unknown',
      '::1',
      '127.0.0.1',
      `${'9.'.repeat(40)}9`,
      ', , ,',
      '2001:db8::1, 198.51.100.77',
    ];

    it('the rate-limit key is the client address two hops back; spoofed extra hops never give a fresh budget', async () => {
      const { sink, lines } = capturedLines();
      const app = anonymous(3, { TRUST_PROXY: '2' });
      const logged = testApp(
        {
          UPSTREAM_URL: upstream.url,
          API_KEY_HASHES: '',
          ALLOW_ANONYMOUS: 'true',
          RATE_LIMIT_MAX: '0',
          TRUST_PROXY: '2',
        },
        { logger: createLogger('info', sink) },
      );
      const results: number[] = [];
      for (const spoofed of spoofs)
        results.push((await request(app).post('/v1/predict').set(viaChain('203.0.113.7', spoofed)).send(body)).status);
      expect(results).toEqual([200, 200, 200, ...Array(spoofs.length - 3).fill(429)]);
      // Another client behind the same chain, with the same spoofs, has its own budget.
      expect(
        (await request(app).post('/v1/predict').set(viaChain('198.51.100.20', '203.0.113.7')).send(body)).status,
      ).toBe(200);
      // And the address logged as clientIp is the one the limit used, whatever was spoofed.
      for (const spoofed of spoofs) {
        await request(logged)
          .post('/v1/predict')
          .set(viaChain('203.0.113.7', spoofed))
          .set('X-Request-Id', `xff-${spoofs.indexOf(spoofed)}`)
          .send(body);
      }
      const clientIps = lines
        .map((l) => JSON.parse(l) as { reqId?: string; clientIp?: string })
        .filter((l) => l.reqId?.startsWith('xff-'))
        .map((l) => l.clientIp);
      expect(clientIps).toEqual(Array(spoofs.length).fill('203.0.113.7'));
    });

    it('one client in two spellings (IPv4 and IPv4-mapped IPv6) and one IPv6 /56 are one budget each', async () => {
      const app = anonymous(2, { TRUST_PROXY: '2' });
      expect((await request(app).post('/v1/predict').set(viaChain('203.0.113.8')).send(body)).status).toBe(200);
      expect((await request(app).post('/v1/predict').set(viaChain('::ffff:203.0.113.8')).send(body)).status).toBe(200);
      expect((await request(app).post('/v1/predict').set(viaChain('203.0.113.8', '1.1.1.1')).send(body)).status).toBe(
        429,
      );
      expect((await request(app).post('/v1/predict').set(viaChain('::ffff:cb00:7108')).send(body)).status).toBe(429);

      expect((await request(app).post('/v1/predict').set(viaChain('2001:db8:1:100::1')).send(body)).status).toBe(200);
      expect((await request(app).post('/v1/predict').set(viaChain('2001:db8:1:1ff:ffff::2')).send(body)).status).toBe(
        200,
      );
      expect(
        (await request(app).post('/v1/predict').set(viaChain('2001:db8:1:1aa::3', '2001:db8:ffff::1')).send(body))
          .status,
      ).toBe(429);
      // The next /56 is someone else.
      expect((await request(app).post('/v1/predict').set(viaChain('2001:db8:1:200::1')).send(body)).status).toBe(200);
    });

    it('with TRUST_PROXY=0 (no proxy in front) no header chooses the address', async () => {
      const app = anonymous(2);
      const headers = [
        viaChain('203.0.113.7'),
        viaChain('198.51.100.1'),
        { 'X-Real-IP': '198.51.100.2' },
        { Forwarded: 'for=198.51.100.3' },
      ];
      const results = [];
      for (const h of headers) results.push((await request(app).post('/v1/predict').set(h).send(body)).status);
      expect(results).toEqual([200, 200, 429, 429]);
    });
  });
});

describe('no submitted values or secrets in logs or answers', () => {
  // Distinctive enough that any appearance is a leak, not a coincidence.
  const LIVE_KEY = 'sk-live-DISTINCTIVE-8d3f2a7191c4';
  const WRONG_KEY = 'sk-wrong-DISTINCTIVE-55aa0f9e';
  const NUMBER = 61.7171717;
  const WORD = 'CAT-SECRET-93f1';
  const secrets = [LIVE_KEY, WRONG_KEY, String(NUMBER), WORD, 'DISTINCTIVE', '7171717', 'SECRET-93f1'];
  const row = (over: Record<string, unknown> = {}) => ({
    tenure_months: 12,
    monthly_charges: NUMBER,
    rooms: null,
    contract: 'one-year',
    colour: 'red',
    'data/usage~gb': 42.5,
    ...over,
  });

  it('at trace level, across 200, 401, 400, 413, 415, 422, 429, 502, 504 and upstream problems, with batching on', async () => {
    const { sink, lines } = capturedLines();
    const app = testApp(
      {
        SCHEMA_PATH: MIXED,
        UPSTREAM_URL: mixedUpstream.url,
        API_KEY_HASHES: sha256Hex(LIVE_KEY),
        BATCH_ENABLED: 'true',
        BATCH_WINDOW_MS: '5',
        RATE_LIMIT_MAX: '40',
        REQUEST_DEADLINE_MS: '300',
        UPSTREAM_RETRIES: '1',
      },
      { logger: createLogger('trace', sink) },
    );
    const key = { 'X-API-Key': LIVE_KEY };
    const answers: Array<{ status: number; text: string; headers: Record<string, unknown> }> = [];
    const send = async (build: (r: request.Agent) => request.Test) => {
      const res = await build(request.agent(app));
      answers.push({ status: res.status, text: res.text, headers: res.headers });
      return res.status;
    };
    const json =
      (payload: string, headers: Record<string, string> = key) =>
      (r: request.Agent) =>
        r.post('/v1/predict').set(headers).set('Content-Type', 'application/json').send(payload);

    // Concurrent single rows: one micro-batch, whose debug lines name the members.
    const batched = await Promise.all([
      send(json(JSON.stringify({ instances: [row()] }))),
      send(json(JSON.stringify({ instances: [row({ tenure_months: 13 })] }), { Authorization: `Bearer ${LIVE_KEY}` })),
      send(json(JSON.stringify({ instances: [row({ tenure_months: 14 })] }))),
    ]);
    expect(batched).toEqual([200, 200, 200]);
    expect(
      await send(
        json(JSON.stringify({ instances: [row(), row()] }), {
          Authorization: `bearer ${LIVE_KEY}`,
          Cookie: `session=${LIVE_KEY}`,
        }),
      ),
    ).toBe(200);
    expect(
      await send((r) =>
        r
          .post(`/v1/predict?api_key=${LIVE_KEY}&v=${WORD}`)
          .set(key)
          .send({ instances: [row()] }),
      ),
    ).toBe(200);
    expect(
      await send(
        json(
          JSON.stringify({
            instances: [row({ contract: WORD, monthly_charges: String(NUMBER), [WORD.toLowerCase()]: WORD })],
          }),
        ),
      ),
    ).toBe(422);
    expect(await send(json(JSON.stringify({ instances: [row()], extra: { note: WORD, n: NUMBER } })))).toBe(422);
    expect(await send(json(`{"instances":[{"contract":"${WORD}","monthly_charges":${NUMBER}`))).toBe(400);
    expect(
      await send((r) =>
        r
          .post('/v1/predict')
          .set(key)
          .set('Content-Type', 'application/json')
          .serialize((b: unknown) => b as string)
          .send(
            Buffer.concat([
              Buffer.from(`{"instances":[{"contract":"${WORD}`),
              Buffer.from([0xff]),
              Buffer.from('"}]}'),
            ]),
          ),
      ),
    ).toBe(400);
    expect(await send(json(JSON.stringify({ instances: [row({ contract: WORD.repeat(400) })] })))).toBe(413);
    expect(
      await send((r) => r.post('/v1/predict').set(key).set('Content-Type', 'text/plain').send(`${WORD} ${NUMBER}`)),
    ).toBe(415);
    for (const headers of [
      { 'X-API-Key': WRONG_KEY },
      { Authorization: `Bearer ${WRONG_KEY}` },
      { Authorization: `Basic ${Buffer.from(`${WRONG_KEY}:${LIVE_KEY}`).toString('base64')}` },
      { 'X-API-Key': `${LIVE_KEY}x` },
    ]) {
      expect(await send(json(JSON.stringify({ instances: [row()] }), headers))).toBe(401);
    }
    // The upstream misbehaves with the submitted row in its answers: none of it may reach the logs.
    const echoed = `<html>${WORD} ${NUMBER} ${LIVE_KEY}</html>`;
    mixedUpstream.script = [
      { kind: 'status', status: 500, contentType: 'text/html', body: echoed },
      { kind: 'status', status: 502, contentType: 'text/html', body: echoed },
      { kind: 'status', status: 502, contentType: 'text/html', body: echoed },
      { kind: 'status', status: 200, contentType: 'application/json', body: `{"predictions":["${WORD}"` },
    ];
    expect(await send(json(JSON.stringify({ instances: [row(), row()] })))).toBe(502);
    expect(await send(json(JSON.stringify({ instances: [row(), row()] })))).toBe(502);
    expect(await send(json(JSON.stringify({ instances: [row(), row()] })))).toBe(502);
    mixedUpstream.script = [{ kind: 'hang' }];
    expect(await send(json(JSON.stringify({ instances: [row(), row()] })))).toBe(504);
    // A 4xx problem from the upstream is passed to the caller as is (it is the caller's own request); logs stay clean.
    mixedUpstream.script = [
      {
        kind: 'status',
        status: 422,
        body: JSON.stringify({
          type: 'urn:sci-eb:problem:validation-error',
          title: 't',
          status: 422,
          detail: `${WORD}`,
        }),
      },
    ];
    expect(await send(json(JSON.stringify({ instances: [row(), row()] })))).toBe(422);
    answers.pop();
    // Spend the rest of the budget: the 429 is clean too.
    let status = 200;
    for (let i = 0; i < 40 && status !== 429; i++) status = await send(json(JSON.stringify({ instances: [row()] })));
    expect(status).toBe(429);

    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(20);
    expect(log).toContain('"statusCode":401');
    expect(log).toContain('sending micro-batch');
    for (const secret of secrets) {
      expect(log, `log contains ${secret}`).not.toContain(secret);
      for (const answer of answers) {
        expect(answer.text, `answer ${answer.status} contains ${secret}`).not.toContain(secret);
        expect(JSON.stringify(answer.headers), `headers of ${answer.status} contain ${secret}`).not.toContain(secret);
      }
    }
  });
});

describe('transport', () => {
  it('sends Strict-Transport-Security on every answer only when served over HTTPS (HSTS_MAX_AGE)', async () => {
    const plain = testApp({ UPSTREAM_URL: upstream.url });
    expect((await request(plain).get('/health')).headers['strict-transport-security']).toBeUndefined();
    const https = testApp({ UPSTREAM_URL: upstream.url, HSTS_MAX_AGE: '31536000' });
    for (const res of [
      await request(https).get('/health'),
      await request(https).post('/v1/predict').set('X-API-Key', API_KEY).send(body),
      await request(https).post('/v1/predict').send(body), // a 401 too
      await request(https).get('/nowhere'),
    ])
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
  });
});
