// yo sci-eb over a matrix of answers: the files each combination gets, their contents, YAML validity, idempotent
// re-runs, prompts, and bad answers that must leave nothing behind.
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import helpers from 'yeoman-test';
import type AppGenerator from '../src/app/index.js';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { decodeBase } from '../src/lib/merge-bases.js';
import { generate as generateProject } from './generate.js';
import { APP, FIXTURES, ROOT, listFiles, read, snapshot } from './helpers.js';

/** `yo sci-eb` in a folder of our own; nothing it writes carries an HTML entity. */
async function generate(options: Record<string, unknown>, name = 'demo', prepare?: (dir: string) => void) {
  const generated = await generateProject(options, name, prepare);
  expectNoHtmlEntities(generated.dir);
  return generated;
}

/** Nothing generated is HTML: an entity in Markdown or YAML is shown to the reader as it is (`&#34;classes&#34;`). */
function expectNoHtmlEntities(dir: string) {
  const checked = listFiles(dir).filter((f) => /\.(md|ya?ml|config)$/.test(f));
  expect(checked).toContain('README.md');
  for (const f of checked) expect(read(dir, f), f).not.toMatch(/&(#\d+|#x[0-9a-f]+|quot|amp|lt|gt|apos);/i);
}

const COMMON = [
  '.ebextensions/02_flask.config',
  '.ebignore',
  '.elasticbeanstalk/config.yml',
  '.gitattributes',
  '.gitignore',
  '.yo-rc.json',
  'Makefile',
  'README.md',
  'application.py',
  'docs/contract.md',
  'docs/runtime.md',
  'features.py',
  'requirements-dev.txt',
  'requirements-ebcli.txt',
  'requirements.txt',
  'ruff.toml',
  'serving/__init__.py',
  'serving/_moved.py',
  'serving/access.py',
  'serving/app.py',
  'serving/artifact.py',
  'serving/bundle.py',
  'serving/contract.json',
  'serving/contract.py',
  'serving/formats.py',
  'serving/gunicorn_hooks.py',
  'serving/largest_request.py',
  'serving/onnx_runtime.py',
  'serving/own_code.py',
  'serving/prediction.py',
  'serving/request_body.py',
  'serving/settings.py',
  'serving/trust.py',
  'serving/validation.py',
  'tests/conftest.py',
  'tests/contract/conftest.py',
  'tests/contract/test_concurrency.py',
  'tests/contract/test_contract.py',
  'tests/test_app.py',
  'tests/test_train.py',
  'tools/__init__.py',
  'tools/bundle.py',
  'tools/check_bundle.py',
  'tools/derived_features.py',
  'tools/errors.py',
  'tools/import_model.py',
  'tools/importer/__init__.py',
  'tools/importer/cli.py',
  'tools/importer/environment.py',
  'tools/importer/inspection.py',
  'tools/importer/libraries.py',
  'tools/importer/library-pins.txt',
  'tools/importer/mlflow_model.py',
  'tools/importer/preflight.py',
  'tools/importer/proof.py',
  'tools/importer/schema.py',
  'tools/importer/source.py',
  'tools/importer/swap.py',
  'tools/importer/user_code.py',
  'tools/importer/wheels.py',
  'tools/onnx_conversion.py',
  'tools/onnx_converters.py',
  'tools/onnx_inputs.py',
  'tools/onnx_text.py',
  'tools/own_code.py',
  'tools/procfile.py',
  'tools/run_staged.py',
  'tools/schema_derivation.py',
  'tools/vouch.py',
  'train.py',
];
const AL2023 = [...COMMON, '.platform/nginx/conf.d/01_body_size.conf', 'Procfile'].sort();
const LEGACY = [...COMMON, '.ebextensions/01_yuminstall.config', '.ebextensions/03_wsgi.config'].sort();

/** The project's files, without the merge bases kept for upgrades (checked on their own). */
const projectFiles = (dir: string) => listFiles(dir).filter((f) => !f.startsWith('.sci-eb/bases/'));
const yamlFiles = (dir: string) => listFiles(dir).filter((f) => f.endsWith('.config') || f.endsWith('.yml'));
const optionSettings = (dir: string) => YAML.parse(read(dir, '.ebextensions/02_flask.config')).option_settings;

function expectBuildOrder(requirements: string) {
  const lines = requirements.split('\n').filter((l) => l && !l.startsWith('#'));
  for (const line of lines) expect(line).toMatch(/^[A-Za-z0-9._-]+==[0-9][A-Za-z0-9.]*$/);
  const at = (name: string) => lines.findIndex((l) => l.toLowerCase().startsWith(`${name}==`));
  expect(at('numpy')).toBeGreaterThanOrEqual(0);
  expect(at('numpy')).toBeLessThan(at('scipy'));
  expect(at('scipy')).toBeLessThan(at('scikit-learn'));
}

describe('yo sci-eb: the matrix', () => {
  it('defaults: al2023, Python 3.11, x86_64, load-balanced, iris random forest', async () => {
    const { dir } = await generate({});
    expect(projectFiles(dir)).toEqual(AL2023);
    for (const f of yamlFiles(dir)) expect(() => YAML.parse(read(dir, f)), f).not.toThrow();
    const procfile = read(dir, 'Procfile');
    expect(procfile).toMatch(/^[A-Za-z0-9_-]+:\s*[^\s].*\n$/); // EB's Procfile line rule
    expect(procfile).toMatch(/^web: gunicorn --bind 127\.0\.0\.1:8000 --workers 2 .*application:application\n$/);
    // A worker stops once, whatever Ctrl-C and the master send it (serving/gunicorn_hooks.py)
    expect(procfile).toMatch(/ --config python:serving\.gunicorn_hooks /);
    const config = YAML.parse(read(dir, '.elasticbeanstalk/config.yml'));
    expect(config.global).toMatchObject({
      application_name: 'demo',
      default_region: 'us-east-1',
      default_platform: 'Python 3.11 running on 64bit Amazon Linux 2023',
      workspace_type: 'Application',
    });
    expect(config['branch-defaults'].default.environment).toBe('demo-env');
    const options = optionSettings(dir);
    expect(options['aws:ec2:instances']).toEqual({ InstanceTypes: 't3.small', SupportedArchitectures: 'x86_64' });
    expect(options['aws:elasticbeanstalk:environment']).toEqual({
      EnvironmentType: 'LoadBalanced',
      LoadBalancerType: 'application',
    });
    expect(options['aws:autoscaling:asg']).toEqual({ MinSize: 1, MaxSize: 4 });
    expect(options['aws:autoscaling:trigger']).toMatchObject({
      MeasureName: 'CPUUtilization',
      Unit: 'Percent',
      UpperThreshold: 70,
      LowerThreshold: 30,
    });
    expect(options['aws:elasticbeanstalk:environment:process:default']).toEqual({
      HealthCheckPath: '/health',
      MatcherHTTPCode: '200',
    });
    // mod_wsgi settings have no place on a gunicorn platform
    expect(options['aws:elasticbeanstalk:container:python']).toBeUndefined();
    for (const f of listFiles(dir)) expect(read(dir, f), f).not.toMatch(/WSGIApplicationGroup %\{GLOBAL\}\n/);
    expectBuildOrder(read(dir, 'requirements.txt'));
    expect(read(dir, 'requirements.txt')).toMatch(/^gunicorn==/m);
    expect(read(dir, 'application.py')).toMatch(/^application = create_app\(/m);
    // One contract, two servers: the service reads the very bytes the gateway reads.
    expect(read(dir, 'serving/contract.json')).toBe(readFileSync(path.join(ROOT, 'contract', 'contract.json'), 'utf8'));
    // An allow-list: everything out, then what runs back in (.git/ and everything else never listed stays out).
    expect(read(dir, '.ebignore')).toMatch(/^\*\n(.*\n)*!\/application\.py$/m);
    expect(read(dir, '.ebignore')).not.toMatch(/^!\/\.git/m);
    expect(read(dir, 'Makefile')).toMatch(/^local: port-free bundle$/m); // the port is checked before 30 s of building
    expect(read(dir, 'Makefile')).toMatch(/^serve: port-free /m);
    // Credentials are checked first (a second), then the tests and the bundle (a minute), and only then the EB CLI.
    expect(read(dir, 'Makefile')).toMatch(/^create: ebcli aws-credentials checked-bundle$/m);
    expect(read(dir, 'Makefile')).toMatch(
      /^deploy: ebcli aws-credentials checked-bundle\n\t\$\(EBCLI_VENV\)\/bin\/eb deploy \$\(ENV_NAME\) --label \$\(LABEL\)$/m,
    );
    expect(read(dir, 'README.md')).toMatch(/Why there is no `01_yuminstall.config`/);
    const stored = JSON.parse(read(dir, '.yo-rc.json'))['generator-sci-eb'];
    expect(stored.answers).toMatchObject({ name: 'demo', platform: 'al2023' });
    expect(stored.manifest['Procfile'].kind).toBe('managed');
    expect(stored.manifest['application.py'].kind).toBe('scaffold');
    expect(stored.manifest['serving/app.py'].kind).toBe('managed');
    expect(stored.manifest['tests/contract/test_contract.py'].kind).toBe('managed');
    expect(stored.generatorVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('al2023 on Graviton, Python 3.13, single instance, wine logistic regression, custom health path and workers', async () => {
    const { dir } = await generate(
      {
        'python-version': '3.13',
        architecture: 'arm64',
        'instance-type': 't4g.medium',
        'environment-type': 'single-instance',
        dataset: 'wine',
        estimator: 'logistic_regression',
        'health-check-path': '/healthz',
        workers: '3',
        region: 'eu-west-1',
        'app-name': 'Wine Quality',
        'env-name': 'wine-prod',
      },
      'wine',
    );
    expect(projectFiles(dir)).toEqual(AL2023);
    const options = optionSettings(dir);
    expect(options['aws:ec2:instances']).toEqual({ InstanceTypes: 't4g.medium', SupportedArchitectures: 'arm64' });
    expect(options['aws:elasticbeanstalk:environment']).toEqual({ EnvironmentType: 'SingleInstance' });
    expect(options['aws:autoscaling:asg']).toBeUndefined();
    expect(options['aws:elasticbeanstalk:application']).toEqual({ 'Application Healthcheck URL': '/healthz' });
    expect(read(dir, 'Procfile')).toMatch(/--workers 3 /);
    const config = YAML.parse(read(dir, '.elasticbeanstalk/config.yml'));
    expect(config.global).toMatchObject({
      application_name: 'Wine Quality',
      default_region: 'eu-west-1',
      default_platform: 'Python 3.13 running on 64bit Amazon Linux 2023',
    });
    expect(config['branch-defaults'].main.environment).toBe('wine-prod');
    expect(read(dir, 'train.py')).toMatch(/wine/);
    expect(read(dir, 'serving/settings.py')).toMatch(/^HEALTH_CHECK_PATH = "\/healthz"$/m);
    expect(read(dir, 'Makefile')).toMatch(/eb create \$\(ENV_NAME\) --single/);
  });

  it("legacy Amazon Linux AMI: the seed's yum list, WSGIApplicationGroup, mod_wsgi settings, no Procfile", async () => {
    const { dir } = await generate(
      { platform: 'amazon-linux-ami', dataset: 'breast_cancer', estimator: 'gradient_boosting' },
      'legacy',
    );
    expect(projectFiles(dir)).toEqual(LEGACY);
    for (const f of yamlFiles(dir)) expect(() => YAML.parse(read(dir, f)), f).not.toThrow();
    expect(YAML.parse(read(dir, '.ebextensions/01_yuminstall.config'))).toEqual({
      packages: { yum: { 'gcc-c++': [], 'atlas-devel': [], 'lapack-devel': [], 'blas-devel': [], libgfortran: [] } },
    });
    expect(
      YAML.parse(read(dir, '.ebextensions/03_wsgi.config')).files['/etc/httpd/conf.d/wsgi_custom.conf'].content,
    ).toBe('WSGIApplicationGroup %{GLOBAL}\n');
    const options = optionSettings(dir);
    expect(options['aws:elasticbeanstalk:container:python']).toEqual({
      WSGIPath: 'application.py',
      NumProcesses: 2,
      NumThreads: 4,
    });
    expect(options['aws:autoscaling:launchconfiguration']).toEqual({ InstanceType: 't2.small' });
    expect(YAML.parse(read(dir, '.elasticbeanstalk/config.yml')).global.default_platform).toBe(
      'Python 3.6 running on 64bit Amazon Linux',
    );
    expectBuildOrder(read(dir, 'requirements.txt'));
    expect(read(dir, 'requirements.txt')).toMatch(/^scikit-learn==0\.24\.2$/m);
    expect(read(dir, 'requirements.txt')).not.toMatch(/gunicorn/);
  });

  it('regression on diabetes with ridge, Python 3.12', async () => {
    const { dir } = await generate(
      { task: 'regression', dataset: 'diabetes', estimator: 'ridge', 'python-version': '3.12' },
      'diabetes',
    );
    expect(projectFiles(dir)).toEqual(AL2023);
    expect(read(dir, 'train.py')).toMatch(/ridge/);
    expect(YAML.parse(read(dir, '.elasticbeanstalk/config.yml')).global.default_platform).toBe(
      'Python 3.12 running on 64bit Amazon Linux 2023',
    );
  });

  it('the onnx runtime: serving pins alone in requirements.txt, the training tools in requirements-dev.txt', async () => {
    const { dir } = await generate(
      { runtime: 'onnx', task: 'regression', dataset: 'diabetes', estimator: 'gradient_boosting' },
      'compiled',
    );
    expect(projectFiles(dir)).toEqual(AL2023);
    const serving = read(dir, 'requirements.txt');
    expect(serving).toMatch(/^onnxruntime==[\d.]+$/m);
    expect(serving).toMatch(/^numpy==[\d.]+$/m);
    expect(serving).not.toMatch(/scikit-learn|scipy|pandas|skops|skl2onnx/i);
    const dev = read(dir, 'requirements-dev.txt');
    expect(dev).toMatch(/^-r requirements\.txt$[\s\S]*^skl2onnx==[\s\S]*^pytest==/m);
    expect(dev.indexOf('scipy==')).toBeLessThan(dev.indexOf('scikit-learn=='));
    expect(read(dir, 'serving/settings.py')).toMatch(/^RUNTIME = "onnx"$/m);
    expect(read(dir, 'docs/runtime.md')).toMatch(/^# The runtime: onnx[\s\S]*--set runtime=sklearn/m);
    expect(read(dir, 'docs/runtime.md')).toMatch(/numpy\s+columns/); // what before_predict gets
    const { dir: plain } = await generate(
      { task: 'regression', dataset: 'diabetes', estimator: 'gradient_boosting' },
      'compiled',
    );
    expect(read(plain, 'serving/settings.py')).toMatch(/^RUNTIME = "sklearn"$/m);
    expect(read(plain, 'requirements-dev.txt')).not.toMatch(/skl2onnx/);
    expect(read(plain, 'docs/runtime.md')).toMatch(/^# The runtime: sklearn[\s\S]*--set runtime=onnx/m);
    expect(read(plain, 'docs/runtime.md')).toMatch(/pandas\s+DataFrame/);
    // The README is the user's and no upgrade rewrites it: it says nothing that changes with the runtime.
    expect(read(dir, 'README.md')).toBe(read(plain, 'README.md'));
  });

  it("the user's CSV is copied into data/ and named in train.py, and kept out of the bundle", async () => {
    const { dir } = await generate(
      { dataset: 'csv', csv: 'houses.csv', target: 'price_band', estimator: 'gradient_boosting' },
      'houses',
      (tmp) => copyFileSync(path.join(FIXTURES, 'houses.csv'), path.join(tmp, 'houses.csv')),
    );
    expect(projectFiles(dir)).toEqual([...AL2023, 'data/houses.csv'].sort());
    expect(read(dir, 'data/houses.csv')).toBe(read(FIXTURES, 'houses.csv'));
    expect(read(dir, 'train.py')).toMatch(/data\/houses\.csv/);
    expect(read(dir, 'train.py')).toMatch(/price_band/);
    expect(read(dir, '.ebignore')).not.toMatch(/^!\/data/m); // never let back in
  });
});

describe('yo sci-eb --gateway', () => {
  it('emits the gateway sources, tests and EB files, but nothing installed or derived from a model', async () => {
    const { dir } = await generate({ gateway: true }, 'withgw');
    const files = listFiles(dir);
    for (const f of [
      'gateway/.elasticbeanstalk/config.yml',
      'gateway/package.json',
      'gateway/package-lock.json',
      'gateway/src/app.ts',
      'gateway/src/server.ts',
      'gateway/client/index.ts',
      'gateway/client/package.json',
      'gateway/Procfile',
      'gateway/.ebextensions/01-gateway.config',
      'gateway/README.md',
      'gateway/contract.json',
      'gateway/test/validation.test.ts',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(
      files.filter((f) =>
        /^gateway\/(node_modules|dist)\/|^gateway\/schema\.json$|^gateway\/src\/generated\/|types\.generated\.ts$/.test(
          f,
        ),
      ),
    ).toEqual([]);
    expect(JSON.parse(read(dir, 'gateway/package.json')).dependencies.express).toMatch(/^\d+\.\d+\.\d+$/); // pinned exactly
    // The gateway's make targets and documentation are files of its own; the Makefile and README are as without it.
    expect(read(dir, 'gateway.mk')).toMatch(/^gateway-serve: gateway$/m);
    expect(read(dir, 'gateway.mk')).toMatch(/^gateway-client: gateway\n\tcd gateway && npm run client:pack$/m);
    expect(read(dir, 'Makefile')).not.toMatch(/gateway-|GATEWAY_/);
    expect(read(dir, 'docs/gateway.md')).toMatch(/^# The prediction gateway[\s\S]*## Deploying the gateway/m);
    const { dir: without } = await generate({}, 'withgw');
    expect(read(dir, 'Makefile')).toBe(read(without, 'Makefile'));
    expect(read(dir, 'README.md')).toBe(read(without, 'README.md'));
    expect(read(dir, '.ebignore')).not.toMatch(/^!\/gateway/m); // neither gateway.mk nor gateway/
    expect(read(dir, 'gateway/contract.json')).toBe(read(dir, 'serving/contract.json')); // one contract, the same bytes
  });

  it("every README in the project describes the project: the gateway's names only its own files and programs", async () => {
    const { dir } = await generate({ gateway: true }, 'withgw');
    const gatewayReadme = read(dir, 'gateway/README.md');
    const repositoryReadme = readFileSync(path.join(ROOT, 'gateway', 'README.md'), 'utf8');
    // What only the generator's repository has (the browser test, the benchmarks) is left out of the copy
    expect(repositoryReadme).toMatch(/docs-browser\.test\.ts[\s\S]*chromium/i);
    expect(repositoryReadme).toMatch(/^## Benchmarks/m);
    expect(gatewayReadme).not.toMatch(
      /chromium|docs-browser|repository only|npm run bench|see Benchmarks|^## Benchmarks/im,
    );
    expect(gatewayReadme).toMatch(
      /`npm test` builds, type-checks and runs the whole suite \(needs `redis-server` on `PATH`; see Tests\)/,
    );
    const files = new Set(listFiles(path.join(dir, 'gateway')));
    const testFiles = [...gatewayReadme.matchAll(/`(?:test\/)?([\w./-]+\.test\.ts)`/g)].map((m) => `test/${m[1]}`);
    expect(testFiles.length).toBeGreaterThan(10);
    for (const file of testFiles) expect(files, file).toContain(file);
    for (const file of files) if (file.endsWith('.test.ts')) expect(testFiles, file).toContain(file);
    // The programs the make targets need, named where the user reads first, and nothing the project does not need
    for (const page of ['README.md', 'docs/gateway.md']) {
      expect(read(dir, page), page).toMatch(/`redis-server`/);
      expect(read(dir, page), page).toMatch(/Node\.js 20\.17 or later/);
      expect(read(dir, page), page).not.toMatch(/chromium/i);
    }
    expect(read(dir, 'README.md')).toMatch(/You need `make`, Python 3\.11 \(`python3\.11`\) with its `venv` module/);
  });

  it('make gateway-test without redis-server says so, whole, before installing anything (make gateway-deploy too)', async () => {
    const { dir } = await generate({ gateway: true }, 'withgw');
    // A PATH with make, a shell and Node, but no redis-server
    const bin = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-bin-'));
    for (const program of ['make', 'sh', 'date', 'sed', 'node', 'npm'])
      symlinkSync(
        spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim(),
        path.join(bin, program),
      );
    for (const target of ['gateway-test', 'gateway-deploy']) {
      const r = spawnSync('make', ['--no-print-directory', target], { cwd: dir, encoding: 'utf8', env: { PATH: bin } });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(
        `make ${target} runs the gateway's tests, which start a real redis-server, and there is none on PATH: install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis), then run make ${target} again.`,
      );
      expect(r.stderr).toMatch(/\nmake: \*\*\* \[gateway\.mk:\d+: gateway-redis\] Error 2\n$/);
    }
    expect(existsSync(path.join(dir, 'gateway', 'node_modules'))).toBe(false);
    expect(existsSync(path.join(dir, '.venv-ebcli'))).toBe(false);
  });

  it('make: the same Makefile includes gateway.mk, whose targets run and show in make help; without it, none', async () => {
    const { dir } = await generate({ gateway: true }, 'withgw');
    const { dir: without } = await generate({}, 'withgw');
    const make = (cwd: string, ...args: string[]) =>
      spawnSync('make', ['--no-print-directory', 'LABEL=v1', ...args], { cwd, encoding: 'utf8' });

    const test = make(dir, '-n', 'gateway-test');
    expect(test.status, test.stderr).toBe(0);
    expect(test.stdout).toMatch(
      /^cd gateway && npm ci --no-audit --no-fund && npm run schema:sync -- \.\.\/model\/schema\.json\ncd gateway && npm test\n$/m,
    );
    expect(make(dir, '-n', 'gateway-bundle').stdout).toMatch(
      /^\.venv-ebcli\/bin\/python tools\/bundle\.py --project gateway --label v1 --require dist\/server\.js /m,
    );
    // make help lists the service's targets, then the gateway's
    expect(make(dir, 'help').stdout).toMatch(
      /^make deploy .*\nmake gateway {8}install the gateway[\s\S]*^make gateway-upstream /m,
    );
    expect(make(dir, '-n', 'clean').stdout).toMatch(
      /^rm -rf \.venv \.venv-ebcli .*withgw-eb-stage-venv" gateway\/\.elasticbeanstalk\/app_versions "[^"]*\/withgw-gateway-stage"\n$/,
    );
    // a folder named gateway/ exists, so its target must be phony to run at all
    expect(make(dir, '-pn', 'help').stdout).toMatch(/^\.PHONY: .*(?<= )gateway(?= ).*(?<= )gateway-test(?= |$)/m);

    const missing = make(without, '-n', 'gateway-test');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/No rule to make target 'gateway-test'/);
    expect(make(without, 'help').stdout).not.toMatch(/gateway/);
    expect(make(without, '-n', 'clean').stdout).toMatch(/^rm -rf \.venv \.venv-ebcli .*withgw-eb-stage-venv"\n$/);
  });

  it('keeps .yo-rc.json small (answers, version, a hash per file); the merge bases are shared blobs beside it', async () => {
    const { dir } = await generate({ gateway: true }, 'withgw');
    const yoRc = readFileSync(path.join(dir, '.yo-rc.json'));
    const { manifest } = JSON.parse(yoRc.toString('utf8'))['generator-sci-eb'];
    const files = projectFiles(dir).filter((f) => f !== '.yo-rc.json');
    expect(Object.keys(manifest).sort()).toEqual(files);
    expect(files.length).toBeGreaterThan(80);
    expect(yoRc.length).toBeLessThan(32 * 1024); // was 489 KB with every managed file's text in it
    for (const entry of Object.values(manifest))
      expect(Object.keys(entry as object).sort()).toEqual(['kind', 'sha256']);
    // One blob per distinct managed content, each the gzip of exactly the bytes its name hashes.
    const managed = Object.entries(manifest as Record<string, { kind: string; sha256: string }>).filter(
      ([, e]) => e.kind === 'managed',
    );
    const hashes = [...new Set(managed.map(([, e]) => e.sha256))].sort();
    expect(hashes.length).toBeLessThan(managed.length); // serving/contract.json and gateway/contract.json share one
    const blobs = readdirSync(path.join(dir, '.sci-eb/bases')).sort();
    expect(blobs).toEqual(hashes.map((h) => `${h}.gz`));
    for (const [file, entry] of managed) {
      expect(
        decodeBase(entry.sha256, readFileSync(path.join(dir, '.sci-eb/bases', `${entry.sha256}.gz`)))?.equals(
          readFileSync(path.join(dir, file)),
        ),
        file,
      ).toBe(true);
    }
    // Committed (teammates upgrade from it), never bundled: the service's bundle leaves it out, the gateway's is gateway/.
    expect(read(dir, '.gitignore')).not.toMatch(/^[^#].*\.sci-eb|^\.?sci-eb/m);
    expect(read(dir, '.ebignore')).not.toMatch(/^!\/\.sci-eb/m);
  });
});

describe('yo sci-eb: re-runs and prompts', () => {
  it('a second run with the same answers changes nothing and asks nothing', async () => {
    const { dir } = await generate({ architecture: 'arm64' });
    const before = snapshot(dir);
    const again = await helpers.run<AppGenerator>(APP).cd(dir).withOptions({ interactive: true });
    expect(again.askedQuestions).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
  });

  it("a re-run keeps the user's edits to scaffold and managed files, and updates untouched managed files", async () => {
    const { dir } = await generate({});
    writeFileSync(path.join(dir, 'application.py'), '# mine\n');
    writeFileSync(path.join(dir, '.ebignore'), '.git/\n# my own ignore list\n');
    const procfileBefore = read(dir, 'Procfile');
    await helpers.run<AppGenerator>(APP).cd(dir).withOptions({ workers: '5' });
    expect(read(dir, 'application.py')).toBe('# mine\n');
    expect(read(dir, '.ebignore')).toBe('.git/\n# my own ignore list\n');
    expect(procfileBefore).toMatch(/--workers 2 /);
    expect(read(dir, 'Procfile')).toMatch(/--workers 5 /);
  });

  it('asks in the order a person thinks, offers only the choices that fit, and validates as the options do', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gen-'));
    copyFileSync(path.join(FIXTURES, 'houses.csv'), path.join(cwd, 'houses.csv'));
    const seen: Record<
      string,
      {
        type: string;
        message: string;
        default?: unknown;
        choices?: Array<{ value: string }>;
        validate?: (v: unknown, a?: object) => unknown;
      }
    > = {};
    await helpers
      .run<AppGenerator>(APP)
      .cd(cwd)
      .withOptions({ interactive: true })
      .withAnswers(
        { name: 'asked', dataset: 'csv', csvPath: 'houses.csv', task: 'classification' },
        {
          callback: (answer, { question }) => {
            seen[question.name] = question as never;
            return answer;
          },
        },
      );
    expect(Object.keys(seen)).toEqual([
      'name',
      'model', // a model of your own to serve instead of training one (empty: train, and the questions follow)
      'dataset', // the data first, then what to predict from it and how
      'csvPath',
      'targetColumn',
      'task', // asked because a CSV leaves it open (a bundled dataset decides it)
      'estimator',
      'featureTypes', // a CSV's column types, over what its data says
      'region',
      'platform',
      'pythonVersion',
      'architecture',
      'instanceType',
      'appName',
      'envName',
      'healthCheckPath',
      'environmentType',
      'minInstances',
      'maxInstances',
      'scalingMetric',
      'scaleUpThreshold',
      'scaleDownThreshold',
      'deploymentPolicy',
      'workers',
      'modelFormat',
      'runtime',
      'gateway',
      'certificateArn', // load-balanced: HTTPS or not (the network questions follow only the answers that need them)
    ]);
    expect(seen.task!.message).toBe('What should the model predict?');
    const values = (key: string) => seen[key]!.choices!.map((c) => c.value);
    expect(values('dataset')).toEqual(['iris', 'wine', 'breast_cancer', 'diabetes', 'csv']);
    // Once the CSV is known its columns are the target's choices, the last one first.
    expect(seen.targetColumn!.type).toBe('select');
    expect(values('targetColumn')).toEqual(['rooms', 'area_m2', 'district', 'has_garden', 'age_years', 'price_band']);
    expect(seen.targetColumn!.default).toBe('price_band');
    // Each answer is checked at its prompt, the disk included, with the message the option would get.
    expect(seen.csvPath!.validate!('missing.csv', { dataset: 'csv' })).toBe(
      `missing.csv does not exist (looked in ${cwd}): give the path of your CSV file`,
    );
    expect(seen.csvPath!.validate!('houses.xlsx', { dataset: 'csv' })).toBe('must name a .csv file');
    expect(seen.csvPath!.validate!('houses.csv', { dataset: 'csv' })).toBe(true);
    expect(seen.name!.validate!('A')).toBe(
      'must be 2 to 40 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen',
    );
    expect(seen.workers!.validate!(0)).toBe('must be a whole number from 1 to 32');
    expect(seen.estimator!.validate!('ridge', { task: 'classification' })).toMatch(/not a classification estimator/);
    const dir = path.join(cwd, 'asked');
    expect(read(dir, 'train.py')).toMatch(/data\/houses\.csv/);
    expect(read(dir, 'train.py')).toMatch(/TARGET_COLUMN = "price_band"/);
  });

  it('a bundled dataset decides the task: it is not asked', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gen-'));
    const result = await helpers
      .run<AppGenerator>(APP)
      .cd(cwd)
      .withOptions({ interactive: true })
      .withAnswers({ name: 'asked', dataset: 'diabetes' });
    expect(result.askedQuestions.map((q) => q.name)).not.toContain('task');
    const estimator = result.askedQuestions.find((q) => q.name === 'estimator')!;
    expect(estimator.answer).toBe('random_forest');
    expect(read(path.join(cwd, 'asked'), 'train.py')).toMatch(/diabetes/);
    expect(read(path.join(cwd, 'asked'), 'train.py')).toMatch(/TASK = "regression"/);
  });

  it('a wrong option is refused before the first question, not after twenty answers', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gen-'));
    const asked: string[] = [];
    const error = await helpers
      .run<AppGenerator>(APP)
      .cd(cwd)
      .withOptions({ interactive: true, csv: 'churn.csv', workers: '0' })
      .withAnswers(
        {},
        {
          callback: (answer, { question }) => {
            asked.push(String(question.name));
            return answer;
          },
        },
      )
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(error?.name).toBe('UsageError');
    expect(error?.message).toMatch(/--csv: churn\.csv does not exist .*: give the path of your CSV file/);
    expect(error?.message).toMatch(/--workers: must be a whole number from 1 to 32/);
    expect(asked).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('asks every question when nothing is given, and uses the answers', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gen-'));
    const result = await helpers.run<AppGenerator>(APP).cd(cwd).withOptions({ interactive: true }).withAnswers({
      name: 'asked',
      dataset: 'diabetes',
      estimator: 'random_forest',
      architecture: 'arm64',
      instanceType: 'm7g.large',
      workers: 4,
    });
    const asked = result.askedQuestions.map((q) => q.name);
    expect(asked.length).toBeGreaterThan(10);
    expect(asked).toEqual(
      expect.arrayContaining([
        'name',
        'dataset',
        'estimator',
        'platform',
        'pythonVersion',
        'architecture',
        'instanceType',
        'environmentType',
        'region',
        'appName',
        'envName',
        'healthCheckPath',
        'workers',
        'gateway',
      ]),
    );
    const dir = path.join(cwd, 'asked');
    expect(read(dir, 'Procfile')).toMatch(/--workers 4 /);
    expect(optionSettings(dir)['aws:ec2:instances']).toEqual({
      InstanceTypes: 'm7g.large',
      SupportedArchitectures: 'arm64',
    });
  });

  it('takes answers from a JSON file, options winning over the file', async () => {
    const { dir } = await generate({ answers: 'answers.json', region: 'ap-south-1' }, 'fromfile', (tmp) =>
      writeFileSync(
        path.join(tmp, 'answers.json'),
        JSON.stringify({ region: 'eu-west-2', workers: 6, dataset: 'wine' }),
      ),
    );
    expect(YAML.parse(read(dir, '.elasticbeanstalk/config.yml')).global.default_region).toBe('ap-south-1');
    expect(read(dir, 'Procfile')).toMatch(/--workers 6 /);
  });
});

describe('yo sci-eb: options', () => {
  it('an unknown option is refused with the nearest known one, before anything is written', async () => {
    let tmp = '';
    const error = await helpers
      .run<AppGenerator>(APP)
      .withArguments(['x-svc'])
      .withOptions({ yes: true, estimatr: 'ridge' })
      .onTargetDirectory((dir) => {
        tmp = dir;
      })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(error?.name).toBe('UsageError');
    expect(error?.message).toMatch(/--estimatr: not an option of sci-eb app \(did you mean --estimator\?\)/);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('--help runs nothing: no question, no file', async () => {
    let tmp = '';
    const result = await helpers
      .run<AppGenerator>(APP)
      .withOptions({ help: true, interactive: true })
      .onTargetDirectory((dir) => {
        tmp = dir;
      });
    expect(result.askedQuestions).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('yo sci-eb: bad answers write nothing', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp[]]> = [
    [
      'several rules at once',
      { 'env-name': 'x', region: 'mars-1', workers: '0', estimator: 'ridge' },
      [/4 problems/, /--env-name/, /--region/, /--workers/, /--estimator/],
    ],
    ['a CSV that does not exist', { dataset: 'csv', csv: 'missing.csv', target: 'y' }, [/missing\.csv does not exist/]],
    [
      'a target column the CSV does not have',
      { dataset: 'csv', csv: 'houses.csv', target: 'price' },
      [
        /--target: houses\.csv has no column "price"; its columns are: rooms, area_m2, district, has_garden, age_years, price_band/,
      ],
    ],
    ['an empty CSV', { dataset: 'csv', csv: 'empty.csv', target: 'y' }, [/--csv: empty\.csv: the file is empty/]],
    [
      'a CSV with a bundled dataset, which would leave it unused',
      { dataset: 'iris', csv: 'houses.csv', target: 'price_band' },
      [
        /--csv: is for your own CSV, but --dataset is iris: leave out --csv to train on iris, or give --dataset csv/,
        /--target: is for your own CSV, but --dataset is iris/,
      ],
    ],
    ['an answers file that is not JSON', { answers: 'broken.json' }, [/--answers broken\.json/]],
    [
      'architecture against instance type',
      { architecture: 'arm64', 'instance-type': 'c5.large' },
      [/--instance-type: c5\.large is an x86_64 instance type/],
    ],
    [
      'the onnx runtime on the legacy platform',
      { platform: 'amazon-linux-ami', runtime: 'onnx' },
      [
        /--runtime: onnx is not available on amazon-linux-ami, whose Python 3\.6 has no wheels of the onnxruntime and skl2onnx this generator pins \(use --platform al2023 for onnx\)/,
      ],
    ],
  ];
  for (const [what, options, messages] of cases) {
    it(what, async () => {
      let tmp = '';
      const run = helpers
        .run<AppGenerator>(APP)
        .withArguments(['bad'])
        .withOptions({ yes: true, ...options })
        .onTargetDirectory((dir) => {
          tmp = dir;
          writeFileSync(path.join(dir, 'broken.json'), '{nope');
          writeFileSync(path.join(dir, 'empty.csv'), '');
          copyFileSync(path.join(FIXTURES, 'houses.csv'), path.join(dir, 'houses.csv'));
        });
      const error = await run.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.name).toBe('UsageError');
      for (const m of messages) expect(error!.message).toMatch(m);
      expect(readdirSync(tmp).sort()).toEqual(['broken.json', 'empty.csv', 'houses.csv']);
    });
  }

  it('refuses a non-empty folder that is not a sci-eb project', async () => {
    let tmp = '';
    const run = helpers
      .run<AppGenerator>(APP)
      .withArguments(['taken'])
      .withOptions({ yes: true })
      .onTargetDirectory((dir) => {
        tmp = dir;
        mkdirSyncP(path.join(dir, 'taken'));
        writeFileSync(path.join(dir, 'taken', 'notes.txt'), 'x');
      });
    const error = await run.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/taken exists and is not empty/);
    expect(readdirSync(path.join(tmp, 'taken'))).toEqual(['notes.txt']);
    expect(existsSync(path.join(tmp, 'taken', '.yo-rc.json'))).toBe(false);
  });
});

describe('make local leaves nothing behind', () => {
  // The bundle and the server are stand-ins (a zip with an empty requirements.txt, a "server" that sleeps): what is
  // tested is the staging, and its clean-up when the user presses Ctrl-C (SIGINT to make's whole process group).
  async function ctrlC(dir: string, overrides: string[]) {
    const child = spawn(
      'make',
      ['--no-print-directory', '-o', 'bundle', '-o', 'port-free', 'LABEL=fake', ...overrides, 'local'],
      {
        cwd: dir,
        detached: true,
      },
    );
    let log = '';
    child.stdout!.on('data', (d) => {
      log += d;
    });
    child.stderr!.on('data', (d) => {
      log += d;
    });
    const closed = new Promise((done) => child.on('close', done));
    const started = path.join(dir, 'server-started');
    for (let i = 0; i < 1200 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(started), log).toBe(true);
    process.kill(-child.pid!, 'SIGINT');
    await closed;
    return log;
  }

  it('Ctrl-C removes the staged bundle and its venv; a STAGE_VENV that was there before stays', async () => {
    const { dir } = await generate({}, 'staged');
    const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-stage-'));
    mkdirSync(path.join(dir, '.elasticbeanstalk', 'app_versions'), { recursive: true });
    const zip = spawnSync(
      'python3',
      [
        '-c',
        'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("requirements.txt", "")',
        path.join(dir, '.elasticbeanstalk', 'app_versions', 'fake.zip'),
      ],
      { encoding: 'utf8' },
    );
    expect(zip.status, zip.stderr).toBe(0);
    // The EB CLI's python runs tools/run_staged.py STAGE_DIR: here it says it started, and waits
    const fakeVenv = (where: string, body: string) => {
      mkdirSync(path.join(where, 'bin'), { recursive: true });
      writeFileSync(path.join(where, 'bin', 'python'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return where;
    };
    const ebcli = fakeVenv(path.join(work, 'ebcli'), `touch "${path.join(dir, 'server-started')}"\nexec sleep 60`);
    const stage = path.join(work, 'stage');

    const log = await ctrlC(dir, [`EBCLI_VENV=${ebcli}`, `STAGE_DIR=${stage}`]);
    expect(log).toMatch(
      /make local: .*fake\.zip unpacked in .*stage, installed in .*stage-venv\n {2}both are removed when it stops/,
    );
    expect(existsSync(stage), log).toBe(false);
    expect(existsSync(`${stage}-venv`), log).toBe(false);

    rmSync(path.join(dir, 'server-started'));
    const mine = fakeVenv(path.join(work, 'my-venv'), 'exit 0');
    const kept = await ctrlC(dir, [`EBCLI_VENV=${ebcli}`, `STAGE_DIR=${stage}`, `STAGE_VENV=${mine}`]);
    expect(kept).toMatch(/the folder is removed when it stops \(.*my-venv was there before: kept\)/);
    expect(existsSync(stage), kept).toBe(false);
    expect(existsSync(path.join(mine, 'bin', 'python')), kept).toBe(true);
  }, 120_000);
});

const mkdirSyncP = (dir: string) => mkdirSync(dir, { recursive: true });
