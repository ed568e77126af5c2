// yo sci-eb:upgrade across two real template versions: a project rendered by 0.0.9's template set (kept as a
// fixture), edited the ways users edit, upgraded with the current set. Run as CI would: the sci-eb launcher, no
// terminal. Also the legacy-to-al2023 migration and the adoption of a project made by hand from the seed recipe.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import semver from 'semver';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../src/lib/answers.js';
import { alters, planChanges } from '../src/lib/apply.js';
import { basePath, decodeBase, encodeBase, projectBases, splitManifest } from '../src/lib/merge-bases.js';
import { sha256 } from '../src/lib/sha256.js';
import { commitChanges } from '../src/base/commit.js';
import { migrateAnswers } from '../src/lib/migrations.js';
import { loadFileSpecs } from '../src/lib/file-specs.js';
import { planProject, renderPlan } from '../src/lib/plan.js';
import { FIXTURES, LAUNCHER, contents, listFiles, read, snapshot } from './helpers.js';
import { sharedVenv } from '../harness/index.mjs';

const templatesOf = (version: string) => path.join(FIXTURES, `templates-${version}`);

const sciEb = (cwd: string, ...args: string[]) => {
  const r = spawnSync('node', [LAUNCHER, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

/**
 * A project exactly as an older generator-sci-eb wrote it: its template set, its answers' shape, its manifest (which
 * up to 0.1.0 kept the full text of every managed file inline, the merge bases of the next upgrade; 0.2.0 keeps a
 * hash per file and the bases as blobs in .sci-eb/bases/).
 */
function oldProject(storedAnswers: Record<string, unknown>, version = '0.0.9'): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'sci-eb-upgrade-')), String(storedAnswers.name));
  const resolution = resolveAnswers(migrateAnswers(storedAnswers, version).answers);
  if (!resolution.ok) throw new Error(JSON.stringify(resolution.problems));
  const templatesDir = templatesOf(version);
  const rendered = renderPlan(resolution.answers, planProject(resolution.answers, loadFileSpecs(templatesDir)), {
    templatesDir,
    generatorVersion: version,
  });
  for (const file of rendered) {
    mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
    writeFileSync(path.join(dir, file.path), file.content);
  }
  const blobs = semver.gte(version, '0.2.0');
  if (blobs) {
    mkdirSync(path.join(dir, '.sci-eb/bases'), { recursive: true });
    for (const f of rendered.filter((r) => r.kind === 'managed'))
      writeFileSync(path.join(dir, basePath(sha256(f.content))), encodeBase(f.content));
  }
  const manifest = Object.fromEntries(
    rendered.map((f) => [
      f.path,
      {
        kind: f.kind,
        sha256: sha256(f.content),
        ...(f.kind === 'managed' && !blobs ? { content: f.content.toString('utf8') } : {}),
      },
    ]),
  );
  writeFileSync(
    path.join(dir, '.yo-rc.json'),
    JSON.stringify({ 'generator-sci-eb': { answers: storedAnswers, generatorVersion: version, manifest } }, null, 2),
  );
  return dir;
}

const OLD_ANSWERS = {
  name: 'shop',
  appName: 'shop',
  envName: 'shop-env',
  region: 'eu-west-1',
  platform: 'al2023',
  pythonVersion: '3.11',
  architecture: 'x86_64',
  instanceType: 't3.small',
  envType: 'SingleInstance',
  minInstances: 1,
  maxInstances: 4,
  scalingMetric: 'CPUUtilization',
  scaleUpThreshold: 70,
  scaleDownThreshold: 30,
  task: 'classification',
  estimator: 'random_forest',
  dataset: 'iris',
  gateway: false,
  healthCheckPath: '/health',
};

const edit = (dir: string, file: string, change: (text: string) => string) =>
  writeFileSync(path.join(dir, file), change(read(dir, file)));
const stored = (dir: string) => JSON.parse(read(dir, '.yo-rc.json'))['generator-sci-eb'];

/** The state as this version keeps it: a hash per file in .yo-rc.json, and exactly one sound blob per managed content. */
function expectBlobState(dir: string) {
  const manifest = stored(dir).manifest as Record<string, { kind: string; sha256: string }>;
  for (const [file, entry] of Object.entries(manifest))
    expect(Object.keys(entry).sort(), file).toEqual(['kind', 'sha256']);
  const hashes = [
    ...new Set(
      Object.values(manifest)
        .filter((e) => e.kind === 'managed')
        .map((e) => e.sha256),
    ),
  ].sort();
  expect(readdirSync(path.join(dir, '.sci-eb/bases')).sort()).toEqual(hashes.map((h) => `${h}.gz`));
  for (const hash of hashes) expect(decodeBase(hash, readFileSync(path.join(dir, basePath(hash)))), hash).toBeDefined();
}

describe('upgrading a 0.0.9 project with the current templates', () => {
  it('untouched project: replaced, added, retired, migrated; a second upgrade changes nothing', () => {
    const dir = oldProject(OLD_ANSWERS);
    expect(read(dir, 'requirements.txt')).toMatch(/^scikit-learn==1\.8\.0$/m);
    expect(sciEb(dir, 'upgrade', '--check').status).toBe(2);
    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    expect(read(dir, 'requirements.txt')).toMatch(/^scikit-learn==1\.9\.1$/m); // a changed pin
    expect(read(dir, 'Makefile')).toMatch(/^clean:$/m); // a changed template
    expect(existsSync(path.join(dir, 'docs/contract.md'))).toBe(true); // a new file
    expect(existsSync(path.join(dir, '.ebextensions/04_logs.config'))).toBe(false); // a retired, unedited file
    // stored answers migrated: envType -> environmentType, workers added
    expect(stored(dir).answers).toMatchObject({ environmentType: 'single-instance', workers: 2 });
    expect(stored(dir).answers.envType).toBeUndefined();
    expect(stored(dir).generatorVersion).not.toBe('0.0.9');
    // the full texts of the old manifest moved into blobs
    expect(r.output).toMatch(/\.yo-rc\.json: the merge bases move out of \.yo-rc\.json, into \.sci-eb\/bases\//);
    expectBlobState(dir);
    expect(
      YAML.parse(read(dir, '.ebextensions/02_flask.config')).option_settings['aws:elasticbeanstalk:environment'],
    ).toEqual({ EnvironmentType: 'SingleInstance' });
    const after = snapshot(dir);
    const again = sciEb(dir, 'upgrade');
    expect(again.status).toBe(0);
    expect(again.output).toMatch(/Up to date/);
    expect(snapshot(dir)).toEqual(after);
    expect(sciEb(dir, 'upgrade', '--check').status).toBe(0);
  });

  it('edited in every way: clean merges applied, conflicts marked and listed (exit 1), deletions respected, own code untouched, nothing lost', () => {
    const dir = oldProject(OLD_ANSWERS);
    edit(dir, 'Makefile', (t) => `${t}\n# team target\nlint:\n\t$(VENV)/bin/python -m pyflakes application.py\n`); // clean merge
    edit(
      dir,
      'requirements.txt',
      (t) => `${t.replace('scikit-learn==1.8.0', 'scikit-learn==1.8.2')}requests==2.32.3\n`,
    ); // conflict + an added package
    edit(dir, '.ebextensions/04_logs.config', (t) => `${t}    RetentionInDays: 30\n`); // retired but edited
    edit(dir, 'application.py', (t) => `${t}\n# our own route goes here\n`); // scaffold
    rmSync(path.join(dir, '.gitattributes')); // deleted managed file
    rmSync(path.join(dir, 'tests/test_train.py')); // deleted scaffold file
    const application = read(dir, 'application.py');

    const dry = sciEb(dir, 'upgrade', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.output).toMatch(/\+\+\+ b\/requirements\.txt\tafter upgrade \(conflict\)/);
    expect(dry.output).toMatch(/\+\+\+ b\/Makefile\tafter upgrade \(merged\)/);
    expect(read(dir, 'Makefile')).not.toMatch(/^clean:$/m); // dry run wrote nothing

    const r = sciEb(dir, 'upgrade');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/1 file has conflicts between your edits and the new version: requirements\.txt/);
    const makefile = read(dir, 'Makefile');
    expect(makefile).toMatch(/^clean:$/m);
    expect(makefile).toMatch(/^lint:\n\t\$\(VENV\)\/bin\/python -m pyflakes application\.py$/m);
    const requirements = read(dir, 'requirements.txt');
    expect(requirements).toContain(
      '<<<<<<< your version\nscikit-learn==1.8.2\n=======\nscikit-learn==1.9.1\n>>>>>>> generated now\n',
    );
    expect(requirements).toMatch(/^requests==2\.32\.3$/m);
    expect(existsSync(path.join(dir, '.ebextensions/04_logs.config'))).toBe(false);
    expect(read(dir, '.ebextensions/04_logs.config.obsolete')).toMatch(/RetentionInDays: 30/);
    expect(existsSync(path.join(dir, '.gitattributes'))).toBe(false);
    expect(existsSync(path.join(dir, 'tests/test_train.py'))).toBe(false);
    expect(read(dir, 'application.py')).toBe(application);

    // Until the markers are resolved, upgrades say so and fail.
    expect(sciEb(dir, 'upgrade').output).toMatch(/UNRESOLVED|conflicts/);
    edit(dir, 'requirements.txt', (t) =>
      t.replace(/<<<<<<< your version\n(.*\n)=======\n.*\n>>>>>>> generated now\n/, '$1'),
    );
    const resolved = sciEb(dir, 'upgrade');
    expect(resolved.status, resolved.output).toBe(0);
    const after = snapshot(dir);
    expect(sciEb(dir, 'upgrade').status).toBe(0);
    expect(snapshot(dir)).toEqual(after);
    expect(read(dir, 'requirements.txt')).toMatch(/^scikit-learn==1\.8\.2$/m);
  });

  it('--set changes an answer and regenerates; bad --set and a project without .yo-rc.json are clear errors', () => {
    const dir = oldProject(OLD_ANSWERS);
    const r = sciEb(
      dir,
      'upgrade',
      '--set',
      'workers=4',
      '--set',
      'instance-type=c7g.large',
      '--set',
      'architecture=arm64',
    );
    expect(r.status, r.output).toBe(0);
    expect(read(dir, 'Procfile')).toMatch(/--workers 4 /);
    expect(YAML.parse(read(dir, '.ebextensions/02_flask.config')).option_settings['aws:ec2:instances']).toEqual({
      InstanceTypes: 'c7g.large',
      SupportedArchitectures: 'arm64',
    });
    const before = snapshot(dir);
    const bad = sciEb(dir, 'upgrade', '--set', 'workers=0', '--set', 'region=nowhere');
    expect(bad.status).toBe(2);
    expect(bad.output).toMatch(/--workers: /);
    expect(bad.output).toMatch(/--region: /);
    expect(sciEb(dir, 'upgrade', '--set', 'colour=blue').output).toMatch(/colour is not an answer/);
    expect(snapshot(dir)).toEqual(before);
    const empty = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-upgrade-'));
    const none = sciEb(empty, 'upgrade');
    expect(none.status).toBe(2);
    expect(none.output).toMatch(/No generator-sci-eb project here.*--adopt/s);
  });

  it('a folder where a file must go: a clear error, and nothing written', () => {
    const dir = oldProject(OLD_ANSWERS);
    mkdirSync(path.join(dir, 'docs/contract.md'), { recursive: true });
    const before = snapshot(dir);
    const r = sciEb(dir, 'upgrade');
    expect(r.status).toBe(2);
    expect(r.output).toMatch(/docs\/contract\.md is in the way: it is a folder/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('an upgrade that fails part-way (the disk fails on the third swap) leaves the project exactly as it was', () => {
    const dir = oldProject(OLD_ANSWERS);
    edit(dir, '.ebextensions/04_logs.config', (t) => `${t}    RetentionInDays: 30\n`); // so a rename is planned too
    // Bytes and file list must be exactly as before (times are restored too, to the microsecond).
    const before = contents(dir);
    const state = JSON.parse(read(dir, '.yo-rc.json'))['generator-sci-eb'];
    const resolution = resolveAnswers(migrateAnswers(state.answers, '0.0.9').answers);
    if (!resolution.ok) throw new Error('answers');
    const rendered = renderPlan(resolution.answers, planProject(resolution.answers), { generatorVersion: '0.1.0' });
    const disk = (p: string) => {
      try {
        return readFileSync(path.join(dir, p));
      } catch {
        return undefined;
      }
    };
    const { manifest, inline } = splitManifest(state.manifest);
    const changes = planChanges(rendered, disk, manifest, projectBases(disk, inline));
    expect(changes.filter(alters).length).toBeGreaterThanOrEqual(4);
    let calls = 0;
    const failing = {
      rename: (from: string, to: string) => {
        if (++calls === 3) throw new Error('disk full');
        renameSync(from, to);
      },
      unlink: unlinkSync,
    };
    expect(() =>
      commitChanges(dir, changes, { writes: [{ path: '.yo-rc.json', content: Buffer.from('{}') }] }, failing),
    ).toThrow('disk full');
    expect(calls).toBe(3);
    expect(contents(dir)).toEqual(before);
    expect(listFiles(dir).filter((f) => f.includes('.sci-eb-'))).toEqual([]);
    expect(existsSync(path.join(dir, 'docs'))).toBe(false);
  });
});

const ANSWERS_010 = {
  name: 'svc',
  appName: 'svc',
  envName: 'svc-env',
  region: 'eu-west-1',
  platform: 'al2023',
  pythonVersion: '3.11',
  architecture: 'x86_64',
  instanceType: 't3.small',
  environmentType: 'load-balanced',
  minInstances: 1,
  maxInstances: 4,
  scalingMetric: 'CPUUtilization',
  scaleUpThreshold: 70,
  scaleDownThreshold: 30,
  task: 'classification',
  estimator: 'logistic_regression',
  dataset: 'iris',
  gateway: false,
  healthCheckPath: '/health',
  workers: 2,
};

/** make in a generated project, with the shared venv of its requirements (built once, then reused). */
const make = (dir: string, target: string) => {
  const venv = sharedVenv('app', [path.join(dir, 'requirements-dev.txt')]);
  const r = spawnSync('make', ['--no-print-directory', `VENV=${venv}`, target], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 600_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};
/** The project trains and passes its whole suite. */
const passes = (dir: string) => {
  const train = make(dir, 'train');
  expect(train.status, train.output).toBe(0);
  const test = make(dir, 'test');
  expect(test.status, test.output).toBe(0);
  expect(test.output).toMatch(/\d+ passed/);
  expect(test.output).not.toMatch(/failed|error|skipped/i);
};

describe('upgrading a 0.1.0 project (the service in application.py) to the serving package', () => {
  const fresh = (dir: string, file: string) => {
    // What this generator writes for the same answers: a new project beside the upgraded one.
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-fresh-'));
    expect(sciEb(cwd, 'app', 'svc', '--answers', path.join(dir, '.yo-rc.json'), '--yes', '--skip-install').status).toBe(
      0,
    );
    return read(path.join(cwd, 'svc'), file);
  };

  it('unedited: moved to the new layout (application.py, its tests, serving/, tests/contract/), and its tests pass', () => {
    const dir = oldProject(ANSWERS_010, '0.1.0');
    expect(read(dir, 'application.py')).toMatch(/^def load_model\(/m); // the 0.1.0 service, all in application.py
    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    expect(r.output).not.toMatch(/Note on application\.py/);
    expectBlobState(dir); // the 0.1.0 manifest's full texts are blobs now
    for (const file of ['application.py', 'tests/test_app.py', 'tests/conftest.py'])
      expect(read(dir, file), file).toBe(fresh(dir, file));
    expect(read(dir, 'application.py')).toMatch(/^application = create_app\(/m);
    for (const file of ['serving/app.py', 'serving/contract.json', 'tests/contract/test_contract.py'])
      expect(existsSync(path.join(dir, file)), file).toBe(true);
    passes(dir);
  }, 600_000); // a first run installs the venv, then the project trains and runs its whole suite

  it('edited: application.py and its tests kept byte for byte, serving/ beside them, a note on how to switch that works', () => {
    const dir = oldProject(ANSWERS_010, '0.1.0');
    edit(
      dir,
      'application.py',
      (t) => `${t}\n\n@application.route("/v1/team", methods=["GET"])\ndef team():\n    return {"team": "data"}\n`,
    );
    const application = read(dir, 'application.py');
    const tests = read(dir, 'tests/test_app.py');
    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/Note on application\.py:\n {2}application\.py holds your edits/);
    expect(r.output).toMatch(/^ +from serving import create_app\n +application = create_app\(\)$/m);
    expect(read(dir, 'application.py')).toBe(application);
    expect(read(dir, 'tests/test_app.py')).toBe(tests); // its group: the old tests go with the old application.py
    expect(existsSync(path.join(dir, 'serving/app.py'))).toBe(true);
    passes(dir); // the old service and its tests, and the contract suite on serving/
    // Following the note: the two lines, the old test file gone, and the project still passes.
    writeFileSync(path.join(dir, 'application.py'), 'from serving import create_app\n\napplication = create_app()\n');
    rmSync(path.join(dir, 'tests/test_app.py'));
    passes(dir);
    const again = sciEb(dir, 'upgrade');
    expect(again.status, again.output).toBe(0);
    expect(again.output).toMatch(/Up to date/);
    expectBlobState(dir);
  }, 600_000); // a first run installs the venv, then the project trains and runs its whole suite
});

describe("upgrade from 0.2.0: the service's Python split into serving/ (what EB runs) and tools/ (build time)", () => {
  const ANSWERS_020 = { ...ANSWERS_010, deploymentPolicy: 'Immutable', modelFormat: 'skops', runtime: 'sklearn' };
  const MOVED = ['serving/schema_derivation.py', 'serving/onnx_conversion.py'];
  const TOOLS = [
    'tools/__init__.py',
    'tools/schema_derivation.py',
    'tools/onnx_conversion.py',
    'tools/import_model.py',
  ];
  const upgradedTwice = (dir: string) => {
    const again = sciEb(dir, 'upgrade');
    expect(again.status, again.output).toBe(0);
    expect(again.output).toMatch(/Up to date/);
    expectBlobState(dir);
  };

  it('unedited: build-time modules leave serving/ for tools/, train.py and its tests follow, and make test passes', () => {
    const dir = oldProject(ANSWERS_020, '0.2.0');
    expect(read(dir, 'train.py')).toMatch(/^from serving\.schema_derivation import /m);
    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    for (const file of MOVED) expect(existsSync(path.join(dir, file)), file).toBe(false);
    for (const file of TOOLS) expect(existsSync(path.join(dir, file)), file).toBe(true);
    expect(read(dir, 'train.py')).toMatch(/^from tools\.schema_derivation import /m); // its group, replaced whole
    expect(r.output).not.toMatch(/Note on train\.py/);
    expectBlobState(dir);
    passes(dir);
    upgradedTwice(dir);
  }, 600_000); // a first run installs the venv, then the project trains and runs its whole suite

  it('edited: train.py, application.py and the Makefile keep your edits, the old imports still train, make test passes', () => {
    const dir = oldProject(ANSWERS_020, '0.2.0');
    edit(dir, 'train.py', (t) => t.replace('RANDOM_STATE = 42', 'RANDOM_STATE = 7'));
    edit(
      dir,
      'application.py',
      (t) => `${t}\n\n@application.route("/v1/team", methods=["GET"])\ndef team():\n    return {"team": "data"}\n`,
    );
    edit(dir, 'Makefile', (t) => `${t}\nnotebook:\n\t@echo our own target\n`);
    const train = read(dir, 'train.py');
    const application = read(dir, 'application.py');
    expect(train).toMatch(/^RANDOM_STATE = 7 /m);
    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    expect(read(dir, 'train.py')).toBe(train);
    expect(read(dir, 'application.py')).toBe(application);
    expect(r.output).toMatch(/Note on train\.py:\n {2}train\.py holds your edits/);
    expect(r.output).toMatch(/^ +from tools\.schema_derivation import /m);
    expect(read(dir, 'Makefile')).toMatch(/^notebook:\n\t@echo our own target$/m); // merged with the new Makefile
    for (const file of MOVED) expect(existsSync(path.join(dir, file)), file).toBe(false);
    for (const file of TOOLS) expect(existsSync(path.join(dir, file)), file).toBe(true);
    passes(dir); // the 0.2.0 train.py, importing serving.schema_derivation, trains through serving/'s alias
    expect(make(dir, 'notebook').output).toMatch(/our own target/);
    upgradedTwice(dir);
  }, 600_000);
});

describe('upgrade from 0.2.0: trust moves out of model/schema.json into trust.json, once', () => {
  const ANSWERS = {
    name: 'svc',
    appName: 'svc',
    envName: 'svc-env',
    region: 'eu-west-1',
    platform: 'al2023',
    pythonVersion: '3.11',
    architecture: 'x86_64',
    instanceType: 't3.small',
    environmentType: 'load-balanced',
    minInstances: 1,
    maxInstances: 4,
    scalingMetric: 'CPUUtilization',
    scaleUpThreshold: 70,
    scaleDownThreshold: 30,
    task: 'classification',
    estimator: 'random_forest',
    dataset: 'iris',
    gateway: false,
    healthCheckPath: '/health',
    workers: 2,
    deploymentPolicy: 'Immutable',
    modelFormat: 'skops',
    runtime: 'sklearn',
  };
  it("records what the project's schema.json trusted, says so, and never touches trust.json again", () => {
    const dir = oldProject(ANSWERS, '0.2.0');
    mkdirSync(path.join(dir, 'model'));
    const listed = ['numpy.dtype', 'sklearn.tree._tree.Tree'];
    writeFileSync(
      path.join(dir, 'model', 'schema.json'),
      JSON.stringify({ schemaVersion: 1, model: { format: 'skops', trustedTypes: listed, sha256: '0'.repeat(64) } }),
    );
    const dry = sciEb(dir, 'upgrade', '--dry-run');
    expect(dry.output).toMatch(/\+\+\+ b\/trust\.json/);
    expect(existsSync(path.join(dir, 'trust.json'))).toBe(false);
    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/Note on trust\.json:\n {2}trust\.json records what loading the model may run/);
    const trust = JSON.parse(read(dir, 'trust.json'));
    expect(Object.keys(trust.skopsTypes)).toEqual(listed);
    expect(trust.skopsTypes['numpy.dtype']).toMatch(/^sci-eb upgrade from 0\.2\.0: model\/schema\.json listed it, /);
    expect(stored(dir).manifest['trust.json']).toBeUndefined(); // the user's file, not the generator's
    // Yours from now on: edited or deleted, the next upgrade leaves it be.
    writeFileSync(path.join(dir, 'trust.json'), '{"trustVersion": 1, "skopsTypes": {}, "pickles": {}}\n');
    const again = sciEb(dir, 'upgrade');
    expect(again.status, again.output).toBe(0);
    expect(again.output).toMatch(/Up to date/);
    expect(read(dir, 'trust.json')).toBe('{"trustVersion": 1, "skopsTypes": {}, "pickles": {}}\n');
  });
});

describe('upgrading a 0.1.0 project with the gateway: its pieces move into files of their own', () => {
  it('its make targets leave the edited Makefile for gateway.mk, defined once; its documentation goes to docs/', () => {
    const { envType: _, ...answers } = OLD_ANSWERS; // 0.1.0 stored environmentType and workers
    const dir = oldProject({ ...answers, environmentType: 'single-instance', workers: 2, gateway: true }, '0.1.0');
    expect(read(dir, 'Makefile')).toMatch(/^gateway-test: gateway$/m);
    edit(dir, 'Makefile', (t) => `${t}\n# team target\nnotebooks:\n\tjupyter lab notebooks/\n`);
    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/merged \(your edits kept\) Makefile/);
    const makefile = read(dir, 'Makefile');
    expect(makefile).not.toMatch(/gateway-|GATEWAY_/);
    expect(makefile).toMatch(/^-include gateway\.mk$/m);
    expect(makefile).toMatch(/^notebooks:\n\tjupyter lab notebooks\/$/m);
    expect(read(dir, 'docs/gateway.md')).toMatch(/^# The prediction gateway/m);
    expect(read(dir, 'docs/runtime.md')).toMatch(/^# The runtime: sklearn/m);

    const make = (...args: string[]) =>
      spawnSync('make', ['--no-print-directory', 'LABEL=v1', ...args], { cwd: dir, encoding: 'utf8' });
    const test = make('-n', 'gateway-test');
    expect(test.status, test.stderr).toBe(0);
    expect(test.stderr).not.toMatch(/overriding|ignoring old/); // each target defined once, in gateway.mk
    expect(test.stdout).toMatch(/^cd gateway && npm test$/m);
    const help = make('help');
    expect(help.stderr).toBe('');
    expect(help.stdout.match(/^make gateway-test /gm)).toHaveLength(1);
    expect(make('-n', 'notebooks').stdout).toBe('jupyter lab notebooks/\n');
  });
});

describe('platform migration: legacy Amazon Linux AMI to al2023', () => {
  it('ends a correct al2023 project: Apache/mod_wsgi configs gone, Procfile added, pins with wheels, your code and packages intact', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-migrate-'));
    expect(sciEb(cwd, 'app', 'legacy', '--yes', '--skip-install', '--platform', 'amazon-linux-ami').status).toBe(0);
    const dir = path.join(cwd, 'legacy');
    edit(dir, 'application.py', (t) => `${t}\n# tuned for our traffic\n`);
    edit(dir, 'requirements.txt', (t) => `${t}boto3==1.35.0\n`);
    const application = read(dir, 'application.py');
    const r = sciEb(dir, 'upgrade', '--set', 'platform=al2023');
    expect(r.status, r.output).toBe(0);
    expect(listFiles(dir).filter((f) => f.startsWith('.ebextensions/'))).toEqual(['.ebextensions/02_flask.config']);
    expect(read(dir, 'Procfile')).toMatch(/^web: gunicorn .*application:application\n$/);
    expect(existsSync(path.join(dir, '.platform/nginx/conf.d/01_body_size.conf'))).toBe(true);
    const options = YAML.parse(read(dir, '.ebextensions/02_flask.config')).option_settings;
    expect(options['aws:elasticbeanstalk:container:python']).toBeUndefined();
    expect(options['aws:ec2:instances']).toEqual({ InstanceTypes: 't2.small', SupportedArchitectures: 'x86_64' });
    expect(YAML.parse(read(dir, '.elasticbeanstalk/config.yml')).global.default_platform).toBe(
      'Python 3.11 running on 64bit Amazon Linux 2023',
    );
    const requirements = read(dir, 'requirements.txt');
    expect(requirements).toMatch(/^scikit-learn==1\.9\.1$/m);
    expect(requirements).toMatch(/^gunicorn==/m);
    expect(requirements).toMatch(/^boto3==1\.35\.0$/m);
    expect(requirements).not.toMatch(/dataclasses|==0\.24\.2/);
    expect(read(dir, 'application.py')).toBe(application);
    expect(stored(dir).answers).toMatchObject({ platform: 'al2023', pythonVersion: '3.11' });
  });
});

describe('adopting a project made by hand from the seed recipe', () => {
  const SEED_APP =
    'from flask import Flask\napplication = Flask(__name__)\n\n@application.route("/")\ndef index():\n    return "ok"\n';
  const FREEZE =
    'boto==2.49.0\njoblib==1.1.1\nnumpy==1.19.5\nscikit-learn==0.24.2\nscipy==1.5.4\nthreadpoolctl==3.1.0\n';
  const YUM =
    'packages:\n  yum:\n    gcc-c++: []\n    atlas-devel: []\n    lapack-devel: []\n    blas-devel: []\n    libgfortran: []\n';
  const FLASK = 'option_settings:\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: application.py\n';
  const WSGI =
    "container_commands:\n  AddGlobalWSGIGroupAccess:\n    command: \"if ! grep -q 'WSGIApplicationGroup %{GLOBAL}' ../wsgi.conf ; then echo 'WSGIApplicationGroup %{GLOBAL}' >> ../wsgi.conf; fi;\"\n";

  function seedProject(): string {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'sci-eb-adopt-')), 'seed_app');
    mkdirSync(path.join(dir, '.ebextensions'), { recursive: true });
    writeFileSync(path.join(dir, 'application.py'), SEED_APP);
    writeFileSync(path.join(dir, 'requirements.txt'), FREEZE);
    writeFileSync(path.join(dir, '.ebextensions/01_yuminstall.config'), YUM);
    writeFileSync(path.join(dir, '.ebextensions/02_flask.config'), FLASK);
    writeFileSync(path.join(dir, '.ebextensions/03_wsgi.config'), WSGI);
    return dir;
  }

  it('infers the legacy platform, orders the requirements, manages the configs, leaves the application alone', () => {
    const dir = seedProject();
    const r = sciEb(dir, 'upgrade', '--adopt', '--app-name', 'seed', '--region', 'us-west-2');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/inferred platform amazon-linux-ami/);
    expect(r.output).toMatch(/moved scipy from line 5 to 4/);
    expect(read(dir, 'requirements.txt')).toBe(
      'boto==2.49.0\njoblib==1.1.1\nnumpy==1.19.5\nscipy==1.5.4\nscikit-learn==0.24.2\nthreadpoolctl==3.1.0\n',
    );
    expect(read(dir, 'application.py')).toBe(SEED_APP);
    expect(read(dir, '.ebextensions/01_yuminstall.config')).toBe(YUM);
    expect(read(dir, '.ebextensions/03_wsgi.config')).toBe(WSGI);
    expect(existsSync(path.join(dir, 'train.py'))).toBe(false); // no scaffold code forced on an adopted project
    for (const added of ['.elasticbeanstalk/config.yml', '.ebignore', 'Makefile', 'tools/bundle.py'])
      expect(existsSync(path.join(dir, added)), added).toBe(true);
    expect(stored(dir).answers).toMatchObject({
      name: 'seed-app',
      appName: 'seed',
      region: 'us-west-2',
      platform: 'amazon-linux-ami',
      pythonVersion: '3.6',
    });
    // Now managed: a second upgrade changes nothing, and the migration to al2023 works from here.
    const after = snapshot(dir);
    expect(sciEb(dir, 'upgrade').status).toBe(0);
    expect(snapshot(dir)).toEqual(after);
    const migrate = sciEb(dir, 'upgrade', '--set', 'platform=al2023');
    expect(migrate.status).toBe(1); // the hand-pinned legacy versions meet the al2023 pins: listed as conflicts
    expect(migrate.output).toMatch(/requirements\.txt/);
    expect(read(dir, 'requirements.txt')).toMatch(/^boto==2\.49\.0$/m);
    expect(read(dir, '.ebextensions/03_wsgi.config.obsolete')).toBe(WSGI);
    expect(existsSync(path.join(dir, 'Procfile'))).toBe(true);
    expect(read(dir, 'application.py')).toBe(SEED_APP);
  });

  it('refuses to adopt a project that is already managed', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-adopt-'));
    sciEb(cwd, 'app', 'managed', '--yes', '--skip-install');
    expect(sciEb(path.join(cwd, 'managed'), 'upgrade', '--adopt').output).toMatch(/already managed/);
  });
});

describe('yo sci-eb run again in a project behaves like upgrade', () => {
  it('merges a changed answer into an edited managed file instead of overwriting it', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-rerun-'));
    sciEb(cwd, 'app', 'again', '--yes', '--skip-install');
    const dir = path.join(cwd, 'again');
    edit(dir, '.ebextensions/02_flask.config', (t) =>
      `${t}  aws:elasticbeanstalk:application:environment:\n    TEAM: data\n`.replace(
        /\n {2}aws:elasticbeanstalk:application:environment:\n {4}TEAM: data\n$/,
        '\n# team note\n',
      ),
    );
    const r = sciEb(dir, 'app', '--region', 'eu-north-1', '--max-instances', '8');
    expect(r.status, r.output).toBe(0);
    const config = read(dir, '.ebextensions/02_flask.config');
    expect(config).toMatch(/# team note/);
    expect(YAML.parse(config).option_settings['aws:autoscaling:asg']).toEqual({ MinSize: 1, MaxSize: 8 });
    expect(readFileSync(path.join(dir, '.elasticbeanstalk/config.yml'), 'utf8')).toMatch(/default_region: eu-north-1/);
  });
});

describe('the upgrade state: merge bases as blobs beside a small .yo-rc.json', () => {
  const project = (name: string, ...options: string[]) => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-state-'));
    const made = sciEb(cwd, 'app', name, '--yes', '--skip-install', ...options);
    expect(made.status, made.output).toBe(0);
    return path.join(cwd, name);
  };
  const addComment = (dir: string, file: string) => edit(dir, file, (t) => `${t}# ours: keep\n`);

  it('a 0.2.0 project (full texts in .yo-rc.json) merges from them, then keeps hashes only and the bases as blobs', () => {
    const dir = project('inline');
    // As 0.2.0 wrote it: every managed file's text in the manifest, no .sci-eb/.
    const all = JSON.parse(read(dir, '.yo-rc.json'));
    for (const entry of Object.values(all['generator-sci-eb'].manifest) as Array<{
      kind: string;
      sha256: string;
      content?: string;
    }>) {
      if (entry.kind === 'managed')
        entry.content = decodeBase(entry.sha256, readFileSync(path.join(dir, basePath(entry.sha256))))!.toString(
          'utf8',
        );
    }
    writeFileSync(path.join(dir, '.yo-rc.json'), JSON.stringify(all, null, 2));
    rmSync(path.join(dir, '.sci-eb'), { recursive: true });
    expect(readFileSync(path.join(dir, '.yo-rc.json')).length).toBeGreaterThan(150_000);
    addComment(dir, '.ebextensions/02_flask.config');
    expect(sciEb(dir, 'upgrade', '--check').status).toBe(2); // the move alone is a change to make
    const r = sciEb(dir, 'upgrade', '--set', 'max-instances=8');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/merged \(your edits kept\) \.ebextensions\/02_flask\.config/);
    expect(r.output).not.toMatch(/written again/); // moved, not lost
    const config = read(dir, '.ebextensions/02_flask.config');
    expect(config).toMatch(/^# ours: keep$/m);
    expect(YAML.parse(config).option_settings['aws:autoscaling:asg']).toEqual({ MinSize: 1, MaxSize: 8 });
    expect(readFileSync(path.join(dir, '.yo-rc.json')).length).toBeLessThan(32 * 1024);
    expectBlobState(dir);
    const after = snapshot(dir);
    expect(sciEb(dir, 'upgrade').output).toMatch(/Up to date/);
    expect(snapshot(dir)).toEqual(after);
  });

  it('a merge base missing or damaged: never trusted, both versions kept between markers, said; the store mended', () => {
    const dir = project('lost');
    addComment(dir, '.ebextensions/02_flask.config');
    addComment(dir, '.elasticbeanstalk/config.yml');
    const ours = { flask: read(dir, '.ebextensions/02_flask.config'), eb: read(dir, '.elasticbeanstalk/config.yml') };
    const manifest = stored(dir).manifest;
    const flaskBlob = path.join(dir, basePath(manifest['.ebextensions/02_flask.config'].sha256));
    writeFileSync(flaskBlob, readFileSync(flaskBlob).subarray(0, 20)); // damaged
    rmSync(path.join(dir, basePath(manifest['.elasticbeanstalk/config.yml'].sha256))); // missing
    const r = sciEb(dir, 'upgrade', '--set', 'max-instances=8', '--set', 'region=eu-north-1');
    expect(r.status).toBe(1);
    expect(r.output).toMatch(
      /2 files have conflicts between your edits and the new version: \.ebextensions\/02_flask\.config, \.elasticbeanstalk\/config\.yml/,
    );
    expect(r.output.match(/its merge base \.sci-eb\/bases\/[0-9a-f]{64}\.gz is missing or damaged/g)).toHaveLength(2);
    for (const [file, mine] of [
      ['.ebextensions/02_flask.config', ours.flask],
      ['.elasticbeanstalk/config.yml', ours.eb],
    ] as const) {
      // Without a base, nothing tells the edits from the changes: every line of yours is still there, the rest marked.
      const lines = new Set(read(dir, file).split('\n'));
      expect(lines.has('<<<<<<< your version') && lines.has('>>>>>>> generated now'), file).toBe(true);
      expect(
        mine.split('\n').filter((l) => !lines.has(l)),
        file,
      ).toEqual([]);
    }
    expect(read(dir, '.ebextensions/02_flask.config')).toMatch(/MaxSize: 8/);
    expect(read(dir, '.elasticbeanstalk/config.yml')).toMatch(/default_region: eu-north-1/);
    expectBlobState(dir); // the bases of this version are all there again
    // A base lost later: the next upgrade writes it again, and says so.
    rmSync(path.join(dir, basePath(stored(dir).manifest['Makefile'].sha256)));
    const mend = sciEb(dir, 'upgrade');
    expect(mend.output).toMatch(/\.sci-eb\/bases: 1 merge base written again \(missing or damaged\)/);
    expectBlobState(dir);
  });

  it('gateway/package.json merged with your dependency: npm regenerates the lockfile; when npm fails, the old one stays', () => {
    const dir = project('locked', '--gateway');
    // As if the generator's previous package.json differed (its description), and the user added a dependency.
    const pkgPath = 'gateway/package.json';
    const now = JSON.parse(read(dir, pkgPath));
    const before = `${JSON.stringify({ ...now, description: 'the previous description' }, null, 2)}\n`;
    const all = JSON.parse(read(dir, '.yo-rc.json'));
    all['generator-sci-eb'].manifest[pkgPath].sha256 = sha256(before);
    writeFileSync(path.join(dir, '.yo-rc.json'), JSON.stringify(all, null, 2));
    writeFileSync(path.join(dir, basePath(sha256(before))), encodeBase(Buffer.from(before)));
    const withDependency = (spec: string) => {
      const mine = JSON.parse(before);
      mine.dependencies.debug = spec; // in the tree already (through express): npm needs no download
      writeFileSync(path.join(dir, pkgPath), `${JSON.stringify(mine, null, 2)}\n`);
    };
    const failing = path.join(path.dirname(dir), 'failing');
    withDependency('not a version ^^');
    cpSync(dir, failing, { recursive: true });
    withDependency('^4.3.0');

    const r = sciEb(dir, 'upgrade');
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/merged \(your edits kept\) gateway\/package\.json/);
    expect(r.output).toMatch(
      /regenerated by npm \(lockfiles are never merged\) gateway\/package-lock\.json\n +regenerated by npm for gateway\/package\.json/,
    );
    const pkg = JSON.parse(read(dir, pkgPath));
    expect([pkg.description, pkg.dependencies.debug]).toEqual([now.description, '^4.3.0']);
    const lock = JSON.parse(read(dir, 'gateway/package-lock.json'));
    expect(lock.packages[''].dependencies.debug).toBe('^4.3.0');
    expect(sciEb(dir, 'upgrade').output).toMatch(/Up to date/); // npm's lockfile is the user's now, and consistent

    const oldLock = read(failing, 'gateway/package-lock.json');
    const f = sciEb(failing, 'upgrade');
    expect(f.status).toBe(1);
    expect(f.output).toMatch(/NOT regenerated \(old lockfile kept\) gateway\/package-lock\.json/);
    expect(f.output).toMatch(
      /gateway\/package-lock\.json was not regenerated: npm install --package-lock-only .* failed: Invalid tag name "not a version \^\^".*run npm install in gateway\/ once gateway\/package\.json is as you want it/,
    );
    expect(read(failing, 'gateway/package-lock.json')).toBe(oldLock);
    expect(JSON.parse(read(failing, pkgPath)).dependencies.debug).toBe('not a version ^^'); // the merge is written, yours to fix
  });
});
