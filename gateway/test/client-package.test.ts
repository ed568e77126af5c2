// The typed client as a frontend team meets it (helpers/frontend-project.ts): the packed tarball installed with npm
// into a throwaway TypeScript project, compiled with --strict (a wrong feature name and a missing feature must not
// compile), run in Node against a real gateway on loopback; and the types openapi-typescript generates from the
// served /openapi.json must stay assignable both ways to the client's. The same compiled code runs in Chromium in
// docs-browser.test.ts (kept out of generated projects, which need no browser).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import openapiTS from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, listen, testApp } from './helpers/app.js';
import { clientPackageName, clientPackageVersion } from '../src/client-package-name.js';
import { packClient } from '../src/scripts/pack-client.js';
import {
  CLIENT_PACKAGE,
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
  it('is an ES module package named for the project, versioned by the model, without dependencies or Node imports', () => {
    const installed = join(project.dir, 'node_modules', CLIENT_PACKAGE);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.name).toBe(`${clientSchema.model.name}-client`);
    expect(manifest.version).toBe(`0.2.0-model-${clientSchema.model.version}`);
    expect(manifest.type).toBe('module');
    expect(manifest.exports['.']).toEqual({ types: './dist/client/index.d.ts', default: './dist/client/index.js' });
    expect(manifest.dependencies ?? {}).toEqual({});
    // Every module imports only the package's own modules (relative paths), never a Node or npm module.
    const dist = join(installed, 'dist');
    const modules = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(modules.sort()).toEqual(
      [
        'client/body-check.js',
        'client/errors-by-field.js',
        'client/index.js',
        'client/mock.js',
        'client/problem-types.js',
        'client/rate-limit.js',
        'client/types.generated.js',
        'client/validate.js',
        'src/shared/error-order.js',
        'src/shared/feature-code.js',
        'src/shared/fill.js',
        'src/shared/formats.js',
        'src/shared/largest-request.js',
        'src/shared/members.js',
        'src/shared/pointer.js',
      ].map((f) => f.replaceAll('/', sep)),
    );
    for (const file of modules) {
      const js = readFileSync(join(dist, file), 'utf8');
      for (const [, spec] of js.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g))
        expect(spec, `${file} imports ${spec}`).toMatch(/^\.\.?\/.*\.js$/);
    }
    // The README is complete and shipped: how to install, update after a retrain, validate, handle errors, mock.
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    expect(readme).not.toMatch(/\{\{\w+\}\}/);
    for (const heading of [
      '## Install',
      '## After a retrain',
      '## Predict',
      '## Errors',
      '## Without the model: the mock',
    ])
      expect(readme).toContain(heading);
    expect(readme).toContain(`from '${CLIENT_PACKAGE}'`);
    expect(readme).toContain(clientSchema.model.version);
  });

  it('names and versions packages validly for any project and model', () => {
    expect(clientPackageName('Iris Classifier')).toBe('iris-classifier-client');
    expect(clientPackageName('_x/y')).toBe('x-y-client');
    expect(clientPackageVersion('0.2.0', '3f2a9c0d41b7')).toBe('0.2.0-model-3f2a9c0d41b7');
    // All digits with a leading zero would be an invalid prerelease identifier on its own.
    expect(clientPackageVersion('0.2.0', '0123')).toBe('0.2.0-model-0123');
    expect(clientPackageVersion('0.2.0', '2026.11.26+sha.1')).toBe('0.2.0-model-2026-11-26-sha-1');
  });

  it('compiles with --strict; a wrong feature name and a missing feature do not', () => {
    // app.ts (typed rows, every option used) compiled when the project was made; these must not.
    const misspelt: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(clientRow)) misspelt[k === firstFeature ? `${k}_typo` : k] = v;
    writeFileSync(
      join(project.dir, 'wrong-name.ts'),
      `import type { FeatureRow } from '${CLIENT_PACKAGE}';\nexport const row: FeatureRow = ${literal(misspelt)};\n`,
    );
    const wrongName = project.tsc('wrong-name.ts');
    expect(wrongName.status).not.toBe(0);
    expect(wrongName.output).toContain(`${firstFeature}_typo`);
    expect(wrongName.output).toMatch(/error TS(2353|2561)/);
    writeFileSync(
      join(project.dir, 'wrong-field.ts'),
      `import { validator } from '${CLIENT_PACKAGE}';\nexport const error = validator.validateField('${firstFeature}_typo', 1);\n`,
    );
    const wrongField = project.tsc('wrong-field.ts');
    expect(wrongField.status).not.toBe(0);
    expect(wrongField.output).toContain(`${firstFeature}_typo`);

    const { [lastFeature]: _dropped, ...incomplete } = clientRow;
    writeFileSync(
      join(project.dir, 'missing.ts'),
      `import type { FeatureRow } from '${CLIENT_PACKAGE}';\nexport const row: FeatureRow = ${literal(incomplete)};\n`,
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
import type { ErrorCode, FeatureRow, PredictRequest, PredictionResponse, ProblemType, ServerProblemKind } from '${CLIENT_PACKAGE}';
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
declare const code: ErrorCode;
declare const generatedCode: S['Problem']['errors'] extends Array<infer E> | undefined ? E extends { code: infer C } ? C : never : never;
export const codeToGenerated: typeof generatedCode = code;
export const codeFromGenerated: ErrorCode = generatedCode;
declare const serverType: Exclude<ProblemType, 'about:blank' | 'urn:sci-eb:problem:timeout' | 'urn:sci-eb:problem:unreachable'>;
declare const kind: ServerProblemKind;
export const kindType: S['Problem']['type'] = \`urn:sci-eb:problem:\${kind}\`;
declare const generatedType: S['Problem']['type'];
export const typeToGenerated: S['Problem']['type'] = serverType;
export const typeFromGenerated: ProblemType = generatedType;
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

  it('after a retrain, npm install of the new tarball brings the new types (and npm ci keeps them)', () => {
    // The retrained model: a new version and one more feature, packed as `make gateway-client` would after
    // `make gateway` copied the new schema.json.
    const retrained = structuredClone(JSON.parse(readFileSync(CLIENT_SCHEMA_PATH, 'utf8')));
    retrained.model.version = 'retrained01';
    retrained.features.push({ name: 'added_feature', type: 'number', nullable: false });
    const retrainedPath = join(project.work, 'retrained.schema.json');
    writeFileSync(retrainedPath, JSON.stringify(retrained));
    const tarball = packClient(project.work, retrainedPath);
    expect(tarball).toMatch(new RegExp(`${CLIENT_PACKAGE}-0\\.2\\.0-model-retrained01\\.tgz$`));

    const manifest = () =>
      JSON.parse(readFileSync(join(project.dir, 'node_modules', CLIENT_PACKAGE, 'package.json'), 'utf8'));
    const install = project.npm('install', tarball);
    expect(install.status, install.output).toBe(0);
    expect(manifest().version).toBe('0.2.0-model-retrained01');
    const dependency = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8')).dependencies[CLIENT_PACKAGE];
    expect(dependency).toContain('retrained01');

    // tsc now points at the code that no longer fits: the row without the new feature.
    const stale = project.tsc('app.ts');
    expect(stale.status).not.toBe(0);
    expect(stale.output).toContain("Property 'added_feature' is missing");
    writeFileSync(
      join(project.dir, 'retrained.ts'),
      `import { SCHEMA, MODEL, type FeatureRow } from '${CLIENT_PACKAGE}';
export const row: FeatureRow = ${literal({ ...clientRow, added_feature: 1 })};
export const names: string[] = SCHEMA.features.map((f) => f.name);
export const version: 'retrained01' = MODEL.version;
`,
    );
    const fresh = project.tsc('retrained.ts');
    expect(fresh.output).toBe('');

    // A clean install from the lock file (CI, a colleague's checkout) gets the retrained package too.
    const ci = project.npm('ci');
    expect(ci.status, ci.output).toBe(0);
    expect(manifest().version).toBe('0.2.0-model-retrained01');
  }, 120_000);
});
