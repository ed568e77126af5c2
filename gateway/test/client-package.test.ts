// The typed client as a frontend team meets it (helpers/frontend-project.ts): the packed tarball installed with npm
// into a throwaway TypeScript project, compiled with --strict (a wrong feature name and a missing feature must not
// compile), run in Node against a real gateway on loopback; and the types openapi-typescript generates from the
// served /openapi.json must stay assignable both ways to the client's. The same compiled code runs in Chromium in
// docs-browser.test.ts (kept out of generated projects, which need no browser).
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, listen, testApp } from './helpers/app.js';
import {
  CLIENT_SCHEMA_PATH,
  clientRow,
  clientSchema,
  createFrontendProject,
  expectOutcome,
  literal,
  type FrontendProject,
} from './helpers/frontend-project.js';
import { startFakeUpstream, type FakeUpstream } from './helpers/upstream.js';

const firstFeature = clientSchema.features[0]!.name;
const lastFeature = clientSchema.features.at(-1)!.name;

let project: FrontendProject;
let upstream: FakeUpstream;
let gateway: { url: string; close(): Promise<void> };

beforeAll(async () => {
  project = createFrontendProject();
  upstream = await startFakeUpstream(CLIENT_SCHEMA_PATH);
  gateway = await listen(testApp({ SCHEMA_PATH: CLIENT_SCHEMA_PATH, UPSTREAM_URL: upstream.url }));
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  project?.remove();
});

describe('the client tarball in a frontend project', () => {
  it('is an ES module package with exports and declarations, without dependencies or Node imports', () => {
    const installed = join(project.dir, 'node_modules', 'sci-eb-gateway-client');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.type).toBe('module');
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.dependencies ?? {}).toEqual({});
    const js = readFileSync(join(installed, 'dist', 'index.js'), 'utf8');
    // The only import is the package's own generated types module.
    expect([...js.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1])).toEqual([
      './types.generated.js',
    ]);
  });

  it('compiles with --strict; a wrong feature name and a missing feature do not', () => {
    // app.ts (typed rows, every option used) compiled when the project was made; these must not.
    const misspelt: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(clientRow)) misspelt[k === firstFeature ? `${k}_typo` : k] = v;
    writeFileSync(
      join(project.dir, 'wrong-name.ts'),
      `import type { FeatureRow } from 'sci-eb-gateway-client';\nexport const row: FeatureRow = ${literal(misspelt)};\n`,
    );
    const wrongName = project.tsc('wrong-name.ts');
    expect(wrongName.status).not.toBe(0);
    expect(wrongName.output).toContain(`${firstFeature}_typo`);
    expect(wrongName.output).toMatch(/error TS(2353|2561)/);

    const { [lastFeature]: _dropped, ...incomplete } = clientRow;
    writeFileSync(
      join(project.dir, 'missing.ts'),
      `import type { FeatureRow } from 'sci-eb-gateway-client';\nexport const row: FeatureRow = ${literal(incomplete)};\n`,
    );
    const missing = project.tsc('missing.ts');
    expect(missing.status).not.toBe(0);
    expect(missing.output).toContain(`error TS2741: Property '${lastFeature}' is missing`);
  }, 60_000);

  it('runs in Node against a real gateway', async () => {
    writeFileSync(
      join(project.dir, 'node-main.mjs'),
      "import { run } from './out/app.js';\nconsole.log(JSON.stringify(await run(process.argv[2], process.argv[3])));\n",
    );
    // Asynchronously: the gateway answers from this very process.
    const r = await new Promise<{ failed: boolean; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        ['node-main.mjs', gateway.url, API_KEY],
        { cwd: project.dir, encoding: 'utf8', timeout: 30_000 },
        (err, stdout, stderr) => done({ failed: err !== null, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.failed).toBe(false);
    expectOutcome(JSON.parse(r.stdout));
  }, 60_000);

  it("keeps openapi-typescript's types from the served /openapi.json assignable both ways to the client's", async () => {
    const doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as Record<string, any>;
    writeFileSync(
      join(project.dir, 'assignable.ts'),
      `import type { components } from './openapi.js';
import type { FeatureRow, PredictRequest, PredictionResponse } from 'sci-eb-gateway-client';
type S = components['schemas'];
declare const row: FeatureRow;
declare const request: PredictRequest;
declare const response: PredictionResponse;
declare const generatedRow: S['FeatureRow'];
declare const generatedRequest: S['PredictRequest'];
declare const generatedResponse: S['PredictResponse'];
export const rowToGenerated: S['FeatureRow'] = row;
export const rowFromGenerated: FeatureRow = generatedRow;
export const requestToGenerated: S['PredictRequest'] = request;
export const requestFromGenerated: PredictRequest = generatedRequest;
export const responseToGenerated: S['PredictResponse'] = response;
export const responseFromGenerated: PredictionResponse = generatedResponse;
`,
    );
    writeFileSync(join(project.dir, 'openapi.ts'), await openapiTS(doc as never));
    const agreed = project.tsc('assignable.ts');
    expect(agreed.output).toBe('');
    expect(agreed.status).toBe(0);

    // Against a document whose FeatureRow has a feature the client does not know, the same check fails.
    const drifted = structuredClone(doc);
    const rowSchema = drifted['components'].schemas.FeatureRow;
    rowSchema.properties['extra_feature'] = { type: 'number' };
    rowSchema.required.push('extra_feature');
    writeFileSync(join(project.dir, 'openapi.ts'), await openapiTS(drifted as never));
    const disagreed = project.tsc('assignable.ts');
    expect(disagreed.status).not.toBe(0);
    expect(disagreed.output).toContain('extra_feature');
  }, 60_000);
});
