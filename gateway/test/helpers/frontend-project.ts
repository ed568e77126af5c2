// A frontend team's project, made the way they would: the client tarball from `npm run client:pack` installed with
// npm into an empty ES-module package, and app.ts (typed rows, a prediction, a validation problem, a call refused by
// CORS) compiled against it with tsc --strict into out/. Used by client-package.test.ts (Node, compile errors,
// openapi-typescript) and docs-browser.test.ts (the same out/app.js in Chromium). Built from the gateway's own
// schema.json, the one `schema:sync` generated the client's types from, so it fits any project's model.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { PACKAGE_ROOT } from '../../src/config.js';
import { loadModelSchema } from '../../src/schema/load.js';
import { exampleRow } from '../../src/schema/validators.js';
import { GENERATED } from '../../src/scripts/schema-sync.js';
import { clientPackageName } from '../../src/client-package-name.js';
import { packClient } from '../../src/scripts/pack-client.js';
import { echoPrediction } from './upstream.js';

export const CLIENT_SCHEMA_PATH = GENERATED.schema;
export const clientSchema = loadModelSchema(CLIENT_SCHEMA_PATH);
export const clientRow = exampleRow(clientSchema);
/** The package's name: the project's (schema.json's model name) + "-client". */
export const CLIENT_PACKAGE = clientPackageName(clientSchema.model.name);

const TSC = resolve(PACKAGE_ROOT, 'node_modules', '.bin', 'tsc');

export interface FrontendProject {
  /** The project folder: package.json, node_modules/<CLIENT_PACKAGE>, app.ts, out/app.js. */
  dir: string;
  /** The working folder the tarball was packed into (beside dir). */
  work: string;
  /** npm in the project, e.g. npm('install', tarball). */
  npm(...args: string[]): { status: number | null; output: string };
  /** tsc as a frontend would run it: strict, ES modules, browser libraries, no Node types in the project. */
  tsc(...files: string[]): { status: number | null; output: string };
  remove(): void;
}

export const literal = (value: unknown) => JSON.stringify(value, null, 2);

/** What a frontend writes; run(baseURL, apiKey, blockedURL?) resolves to the Outcome checked by expectOutcome. */
export const APP_TS = `
import { createPredictionClient, FEATURE_NAMES, isUnreachable, isValidationProblem, MODEL, PredictionProblem, validator, type FeatureRow, type PredictionResult } from '${CLIENT_PACKAGE}';

const row: FeatureRow = ${literal(clientRow)};

export interface Outcome {
  model: string;
  features: readonly string[];
  answer: PredictionResult;
  invalid: { status: number; type: string; fields: Record<string, string>; local: unknown[] } | undefined;
  blocked: { status: number; type: string; unreachable: boolean } | undefined;
}

async function problemOf(call: Promise<unknown>): Promise<PredictionProblem | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    if (err instanceof PredictionProblem) return err;
    throw err;
  }
}

export async function run(baseURL: string, apiKey: string, blockedURL?: string): Promise<Outcome> {
  const client = createPredictionClient({ baseURL, apiKey });
  const answer = await client.predict([row], { requestId: 'frontend-1' });
  // A value of the wrong type, as a form might produce; the cast is what untyped input looks like.
  const bad = { ...row, [FEATURE_NAMES[0]]: { not: 'a value' } } as unknown as FeatureRow;
  const invalid = await problemOf(client.predict([bad]));
  const blocked = blockedURL ? await problemOf(createPredictionClient({ baseURL: blockedURL, apiKey }).predict([row])) : undefined;
  return {
    model: MODEL.version,
    features: FEATURE_NAMES,
    answer,
    invalid: invalid && isValidationProblem(invalid)
      ? { status: invalid.status, type: invalid.type, fields: invalid.errorsForRow(0), local: validator.validateRows([bad]) }
      : undefined,
    blocked: blocked && { status: blocked.status, type: blocked.type, unreachable: isUnreachable(blocked) },
  };
}
`;

/** Packs the client, installs the tarball into a fresh project and compiles app.ts (throws if any step fails). */
export function createFrontendProject(): FrontendProject {
  const work = mkdtempSync(join(tmpdir(), 'gateway-frontend-'));
  const tarball = packClient(work);
  const dir = join(work, 'frontend');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${literal({ name: 'frontend', private: true, type: 'module' })}\n`);
  const npm = (...args: string[]) => {
    const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };
  const install = npm('install', tarball);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.output}`);
  const tsc = (...files: string[]) => {
    const r = spawnSync(
      TSC,
      [
        '--strict',
        '--noUncheckedIndexedAccess',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--lib',
        'es2022,dom',
        '--outDir',
        'out',
        ...files,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };
  writeFileSync(join(dir, 'app.ts'), APP_TS);
  const compiled = tsc('app.ts');
  if (compiled.status !== 0 || compiled.output !== '')
    throw new Error(`app.ts does not compile against the client:\n${compiled.output}`);
  return { dir, work, npm, tsc, remove: () => rmSync(work, { recursive: true, force: true }) };
}

export function expectOutcome(outcome: Record<string, any>): void {
  const expected = echoPrediction(clientSchema, clientRow);
  expect(outcome['model']).toBe(clientSchema.model.version);
  expect(outcome['features']).toEqual(clientSchema.features.map((f) => f.name));
  expect(outcome['answer'].predictions).toEqual([expected.prediction]);
  expect(outcome['answer'].requestId).toBe('frontend-1');
  expect(outcome['answer'].modelVersion).toBe(clientSchema.model.version);
  expect(outcome['invalid']).toMatchObject({ status: 422, type: 'urn:sci-eb:problem:validation-error' });
  expect(Object.keys(outcome['invalid'].fields)).toEqual([clientSchema.features[0]!.name]);
  // The package's validator, run in the frontend, finds what the gateway found.
  expect(outcome['invalid'].local).toEqual([
    expect.objectContaining({
      pointer: `/instances/0/${clientSchema.features[0]!.name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
    }),
  ]);
}
