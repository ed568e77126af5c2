// The /docs page in a real browser: Debian's headless Chromium, driven by playwright-core (which brings no browser
// of its own), loads the page from a gateway in front of a fake upstream, builds the form from /openapi.json, and
// sends predictions from it. The page is local HTML+JS under a strict CSP, so a CSP violation or a script error
// fails the test as well.
//
// The typed client package runs here too (the last test): generated projects do not get this file, since they need
// no browser, so every Chromium test lives in it.
//
// Needs /usr/bin/chromium (Debian/Ubuntu: apt-get install -y chromium). Missing, the test fails and says so: a
// docs page nobody has seen working is not a pass.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, IRIS, TYPED, listen, testApp } from './helpers/app.js';
import {
  CLIENT_PACKAGE,
  CLIENT_SCHEMA_PATH,
  createFrontendProject,
  expectOutcome,
  type FrontendProject,
} from './helpers/frontend-project.js';
import { echoPrediction, startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';
import { clientPackageName } from '../src/client-package-name.js';
import { exampleRow } from '../src/schema/validators.js';
import { loadModelSchema } from '../src/schema/load.js';

const CHROMIUM = '/usr/bin/chromium';
const schema = loadModelSchema(IRIS);

let upstream: FakeUpstream;
let gateway: { url: string; close(): Promise<void> };
/** A gateway for a model with text, boolean, date, date-time and integer-coded category features. */
let typedUpstream: FakeUpstream;
let typedGateway: { url: string; close(): Promise<void> };
/** The same gateway without keys, as `make gateway-serve` runs it. */
let anonymousGateway: { url: string; close(): Promise<void> };
let context: BrowserContext | undefined;
let profile: string | undefined;
let page: Page;
/** Console errors, page errors and CSP violations seen by the browser. */
const problems: string[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream(IRIS);
  gateway = await listen(testApp({ UPSTREAM_URL: upstream.url }));
  anonymousGateway = await listen(testApp({ UPSTREAM_URL: upstream.url, API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' }));
  typedUpstream = await startFakeUpstream(TYPED);
  typedGateway = await listen(
    testApp({ SCHEMA_PATH: TYPED, UPSTREAM_URL: typedUpstream.url, API_KEY_HASHES: '', ALLOW_ANONYMOUS: 'true' }),
  );
});

/** In the test, not in beforeAll: a failing hook would report the test as skipped, and a missing browser is a failure. */
async function openBrowser(): Promise<Page> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the docs page test needs Debian's Chromium (apt-get install -y chromium)`);
  }
  // A fresh profile per run; playwright passes it to Chromium as --user-data-dir.
  profile = mkdtempSync(join(tmpdir(), 'gateway-docs-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
  // Only the gateway on loopback may be reached; anything else the page tried would be a bug (and is refused).
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    return url.hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  const opened = context.pages()[0] ?? (await context.newPage());
  opened.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  opened.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return opened;
}

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await gateway?.close();
  await anonymousGateway?.close();
  await upstream?.close();
  await typedGateway?.close();
  await typedUpstream?.close();
});

async function submit(expectedStatus: number): Promise<{ status: string; result: unknown }> {
  await page.evaluate(() => delete document.body.dataset['lastStatus']);
  await page.click('#predict');
  await page.waitForSelector(`body[data-last-status="${expectedStatus}"]`, { timeout: 10_000 });
  const status = (await page.textContent('#status')) ?? '';
  const result = JSON.parse((await page.textContent('#result')) ?? 'null') as unknown;
  return { status, result };
}

/** "METHOD /path" -> what the API key column says, for every row of the endpoints table. */
const keyColumn = () =>
  page.$$eval('#endpoints tbody tr', (rows) =>
    Object.fromEntries(
      rows.map((r) => [
        `${r.children[0]!.textContent} ${r.children[1]!.textContent}`,
        r.children[3]!.textContent ?? '',
      ]),
    ),
  );

describe('/docs in headless Chromium', () => {
  it('renders endpoints and features from /openapi.json, and the try-it form sends a prediction and shows the answer', async () => {
    page = await openBrowser();
    const loaded = await page.goto(`${gateway.url}/docs`, { waitUntil: 'load' });
    expect(loaded?.status()).toBe(200);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });

    expect(await page.title()).toContain('iris-classifier');
    const featureRows = await page.$$eval('#features tbody tr', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset['feature']),
    );
    expect(featureRows).toEqual(schema.features.map((f) => f.name));
    const endpoints = await page.$$eval('#endpoints tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    expect(endpoints.some((e) => e.includes('POST') && e.includes('/v1/predict'))).toBe(true);
    expect(await keyColumn()).toMatchObject({
      'POST /v1/predict': 'required',
      'GET /v1/schema': 'required',
      'GET /health/live': 'no',
    });
    expect(await page.isVisible('#api-key')).toBe(true);

    // Fill the example row, type the key, send.
    await page.click('#fill-example');
    const example = exampleRow(schema);
    for (const f of schema.features)
      expect(await page.inputValue(`input[name="${f.name}"]`)).toBe(String(example[f.name]));
    await page.fill('#api-key', API_KEY);
    const callsBefore = upstream.calls.length;
    const ok = await submit(200);
    expect(ok.status).toMatch(/^200 OK · model 3f2a9c0d41b7 · request [0-9a-f-]{36}$/);
    expect(ok.result).toEqual({
      predictions: [echoPrediction(schema, example).prediction],
      probabilities: [echoPrediction(schema, example).probabilities],
      classes: ['setosa', 'versicolor', 'virginica'],
      model: { name: 'iris-classifier', version: '3f2a9c0d41b7' },
    });
    expect(upstream.calls.length).toBe(callsBefore + 1);
    expect(upstream.calls.at(-1)!.rows).toEqual([example]);

    // A value typed by hand goes through as a number.
    await page.fill('input[name="sepal_length"]', '6.9');
    const typed = await submit(200);
    expect(typed.result).toMatchObject({
      predictions: [echoPrediction(schema, { ...example, sepal_length: 6.9 }).prediction],
    });
    expect(upstream.calls.at(-1)!.rows).toEqual([{ ...example, sepal_length: 6.9 }]);

    // A field left empty: the page shows the gateway's 422 problem with the pointer, and nothing reaches the upstream.
    await page.fill('input[name="petal_width"]', '');
    const invalid = await submit(422);
    expect(invalid.status).toMatch(/^422 error/);
    expect(invalid.result).toMatchObject({
      type: 'urn:sci-eb:problem:validation-error',
      status: 422,
      errors: [{ pointer: '/instances/0/petal_width', code: 'required', detail: 'is required' }],
    });

    // A wrong key: 401 shown as such.
    await page.fill('input[name="petal_width"]', '0.2');
    await page.fill('#api-key', 'not-the-key');
    const refused = await submit(401);
    expect(refused.result).toMatchObject({ type: 'urn:sci-eb:problem:unauthorized', status: 401 });
    expect(upstream.calls.length).toBe(callsBefore + 2);

    // The same page from a gateway without keys: no endpoint is marked as needing one, no key field, and it predicts.
    await page.goto(`${anonymousGateway.url}/docs`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    expect(Object.values(await keyColumn()).every((v) => v === 'no')).toBe(true);
    expect(await page.isVisible('#api-key')).toBe(false);
    expect(await page.textContent('#auth-note')).toMatch(/without API keys/);
    await page.click('#fill-example');
    expect((await submit(200)).status).toMatch(/^200 OK/);

    // A model with typed features: booleans and whole-number categories are chosen and sent as JSON true/false and
    // numbers, text as typed (spaces kept), dates as strings; a date that does not exist is the gateway's 422.
    const typedSchema = loadModelSchema(TYPED);
    await page.goto(`${typedGateway.url}/docs`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    const kinds = await page.$$eval('#features tbody tr', (rows) => rows.map((r) => r.children[1]!.textContent));
    expect(kinds).toEqual(typedSchema.features.map((f) => f.type));
    await page.click('#fill-example');
    const typedExample = exampleRow(typedSchema);
    expect((await submit(200)).status).toMatch(/^200 OK/);
    expect(typedUpstream.calls.at(-1)!.rows).toEqual([typedExample]);
    const field = (name: string) => `[data-feature="${name}"]:is(input, select)`;
    await page.selectOption(field('member'), 'true');
    await page.selectOption(field('grade'), '5');
    await page.fill(field('review'), ' two words');
    await page.fill(field('last/seen'), '2026-03-04T05:06:07Z');
    expect((await submit(200)).status).toMatch(/^200 OK/);
    expect(typedUpstream.calls.at(-1)!.rows).toEqual([
      { ...typedExample, member: true, grade: 5, review: ' two words', 'last/seen': '2026-03-04T05:06:07Z' },
    ]);
    await page.fill(field('joined'), '2026-02-30');
    expect((await submit(422)).result).toMatchObject({
      errors: [{ pointer: '/instances/0/joined', code: 'not_a_date' }],
    });

    if (process.env['DOCS_SCREENSHOT']) await page.screenshot({ path: process.env['DOCS_SCREENSHOT'], fullPage: true });
    if (process.env['FUZZ_STATS']) console.log(problems);
    expect(problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);
  }, 60_000);
});

describe('/docs for frontend teams: responses, error catalogue, JSON editor, snippets, headers', () => {
  it('shows every status with examples, sends several rows as JSON, and its curl and fetch snippets work', async () => {
    if (!context) page = await openBrowser();
    await context!.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gateway.url });
    await page.goto(`${gateway.url}/docs`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    const doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as Record<string, any>;

    // One section per status of POST /v1/predict, each with its example bodies.
    const statuses = await page.$$eval('#responses section', (sections) =>
      sections.map((s) => [(s as HTMLElement).dataset['status'], s.querySelectorAll('pre').length]),
    );
    expect(statuses.map(([status]) => status)).toEqual(Object.keys(doc['paths']['/v1/predict'].post.responses));
    expect(statuses.every(([, examples]) => Number(examples) >= 1)).toBe(true);
    // The catalogue: every problem type, with its example body.
    const catalogue = await page.$$eval('#problems tbody tr', (rows) =>
      rows.map((r) => (r as HTMLElement).dataset['type']),
    );
    expect(catalogue).toEqual(Object.values<any>(doc['components'].examples).map((e) => e.value.type));
    expect(catalogue).toContain('urn:sci-eb:problem:not-found');

    // The JSON editor: two rows sent as written, answered for both; the answer's headers listed.
    await page.fill('#api-key', API_KEY);
    await page.click('#json-add-row');
    const body = JSON.parse(await page.inputValue('#json-body'));
    const example = exampleRow(schema);
    expect(body).toEqual({ instances: [example, example] });
    await page.evaluate(() => delete document.body.dataset['lastStatus']);
    await page.click('#json-send');
    await page.waitForSelector('body[data-last-status="200"]', { timeout: 10_000 });
    expect(JSON.parse((await page.textContent('#result')) ?? '{}').predictions).toHaveLength(2);
    expect(upstream.calls.at(-1)!.rows).toEqual([example, example]);
    const headers = await page.$$eval('#response-headers tbody tr', (rows) =>
      Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset['header'], r.children[1]!.textContent])),
    );
    expect(headers).toMatchObject({
      'content-type': expect.stringContaining('application/json'),
      'x-model-version': '3f2a9c0d41b7',
    });
    expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    // A mistake in the second row: the 422 points at it.
    const first = schema.features[0]!.name;
    await page.fill('#json-body', JSON.stringify({ instances: [example, { ...example, [first]: 'abc' }] }));
    await page.evaluate(() => delete document.body.dataset['lastStatus']);
    await page.click('#json-send');
    await page.waitForSelector('body[data-last-status="422"]', { timeout: 10_000 });
    expect(JSON.parse((await page.textContent('#result')) ?? '{}').errors).toEqual([
      { pointer: `/instances/1/${first}`, code: 'not_a_number', detail: 'must be a number' },
    ]);

    // The snippets follow the editor; the curl one runs in a shell and the fetch one in Node, against this gateway.
    await page.fill('#json-body', JSON.stringify({ instances: [example, example] }));
    await page.dispatchEvent('#json-body', 'input');
    const curl = (await page.textContent('#snippet-curl')) ?? '';
    expect(curl).toContain(`${gateway.url}/v1/predict`);
    const viaCurl = await new Promise<string>((done, fail) =>
      execFile('bash', ['-c', curl], { env: { ...process.env, API_KEY } }, (err, stdout) =>
        err ? fail(err) : done(stdout),
      ),
    );
    expect(JSON.parse(viaCurl).predictions).toHaveLength(2);
    const fetchSnippet = (await page.textContent('#snippet-fetch')) ?? '';
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
      ...args: string[]
    ) => (key: string) => Promise<unknown>;
    const viaFetch = (await new AsyncFunction('API_KEY', `${fetchSnippet}\nreturn answer;`)(API_KEY)) as {
      predictions: unknown[];
    };
    expect(viaFetch.predictions).toHaveLength(2);
    const clientSnippet = (await page.textContent('#snippet-client')) ?? '';
    expect(clientSnippet).toContain(`from '${clientPackageName(schema.model.name)}'`);
    expect(clientSnippet).toContain('apiKey: API_KEY');

    // Copy puts the snippet on the clipboard.
    await page.click('button.copy[data-for="snippet-curl"]');
    await page.waitForSelector('button.copy[data-for="snippet-curl"][data-copied="true"]');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(curl);

    // The browser's own request for /favicon.ico finds an icon.
    const icon = await fetch(`${gateway.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);
    expect(problems.filter((p) => p.includes('favicon'))).toEqual([]);
  }, 60_000);
});

describe('the client package in headless Chromium', () => {
  let frontend: FrontendProject | undefined;
  let site: http.Server | undefined;
  let clientUpstream: FakeUpstream | undefined;
  const gateways: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await clientUpstream?.close();
    // Chromium keeps its connections to the site open until the browser closes, which is after this.
    site?.closeAllConnections();
    await new Promise<void>((r) => (site ? site.close(() => r()) : r()));
    frontend?.remove();
  });

  it('runs from another origin against a gateway that lists it in CORS_ORIGINS, as plain ES modules (no bundler)', async () => {
    frontend = createFrontendProject();
    const dir = frontend.dir;
    // The frontend's origin: a static server for the compiled app and node_modules, on a port of its own.
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };
    site = http.createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const file = resolve(dir, `.${path === '/' ? '/index.html' : path}`);
      if (!file.startsWith(dir) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' })
        .end(readFileSync(file));
    });
    await new Promise<void>((r) => site!.listen(0, '127.0.0.1', () => r()));
    const origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    clientUpstream = await startFakeUpstream(CLIENT_SCHEMA_PATH);
    const allowed = await listen(
      testApp({ SCHEMA_PATH: CLIENT_SCHEMA_PATH, UPSTREAM_URL: clientUpstream.url, CORS_ORIGINS: origin }),
    );
    const notListed = await listen(testApp({ SCHEMA_PATH: CLIENT_SCHEMA_PATH, UPSTREAM_URL: clientUpstream.url }));
    gateways.push(allowed, notListed);
    // An import map resolves the package name as a bundler would; the rest is the installed package as it is.
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html><meta charset="utf-8"><title>frontend</title>
<script type="importmap">{"imports":{"${CLIENT_PACKAGE}":"/node_modules/${CLIENT_PACKAGE}/dist/client/index.js"}}</script>
<script type="module">
import { run } from '/out/app.js';
run(${JSON.stringify(allowed.url)}, ${JSON.stringify(API_KEY)}, ${JSON.stringify(notListed.url)})
  .then((o) => { document.body.dataset.outcome = JSON.stringify(o); })
  .catch((e) => { document.body.dataset.failure = String((e && e.stack) || e); });
</script>`,
    );
    if (!context) page = await openBrowser();
    const tab = await context!.newPage();
    const pageErrors: string[] = [];
    tab.on('pageerror', (err) => pageErrors.push(err.message));
    await tab.goto(`${origin}/`, { waitUntil: 'load' });
    await tab.waitForSelector('body[data-outcome], body[data-failure]', { state: 'attached', timeout: 20_000 });
    expect(await tab.getAttribute('body', 'data-failure')).toBeNull();
    const outcome = JSON.parse((await tab.getAttribute('body', 'data-outcome'))!);
    expectOutcome(outcome);
    // The gateway without this origin in CORS_ORIGINS: the browser withholds the answer, the client says so.
    expect(outcome.blocked).toEqual({ status: 0, type: 'urn:sci-eb:problem:unreachable', unreachable: true });
    expect(pageErrors).toEqual([]);
    await tab.close();
  }, 90_000);
});
