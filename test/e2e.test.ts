// End to end, for real: generate a project with the sci-eb launcher, train and test it with its own Makefile, build
// the EB source bundle through awsebcli's own zipping code, check what is in it, then `make local`: unpack the
// bundle in a fresh folder, install its requirements, start the Procfile's command there, and talk HTTP to it.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectBundle, expectOnlyAllowed, FIXTURES, LAUNCHER, plantSecrets, read } from './helpers.js';
import { acquirePort8000, openProject, sharedVenv } from '../harness/index.mjs';

const PORT = 8000; // the Procfile's port, as EB's nginx expects it

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return execFileSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 900_000,
  });
}

async function waitForHttp(url: string, child: ChildProcess, log: () => string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${log()}`);
}

describe('a generated project, end to end', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-e2e-'));
  const project = path.join(work, 'iris-e2e');
  let appVenv = '';
  let ebcliVenv = '';
  let server: ChildProcess | undefined;
  let serverLog = '';
  let releasePort = () => {};
  const make = (...targets: string[]) =>
    run('make', ['--no-print-directory', `VENV=${appVenv}`, `EBCLI_VENV=${ebcliVenv}`, ...targets], project);

  beforeAll(() => {
    run('node', [LAUNCHER, 'app', 'iris-e2e', '--yes', '--skip-install', '--region', 'eu-central-1'], work);
    appVenv = sharedVenv('app', [path.join(project, 'requirements-dev.txt')]);
    ebcliVenv = sharedVenv('ebcli', [path.join(project, 'requirements-ebcli.txt')]);
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      process.kill(-server.pid!, 'SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    releasePort();
  });

  it('trains with make train: prints a held-out score and writes the model and its schema', () => {
    const out = make('train');
    expect(out).toMatch(/accuracy/i);
    const schema = JSON.parse(read(project, 'model/schema.json'));
    expect(schema.features.map((f: { name: string }) => f.name)).toHaveLength(4);
    expect(schema.target.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(schema.model.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('passes its own test suite with make test', () => {
    const out = make('test');
    expect(out).toMatch(/\d+ passed/);
    expect(out).not.toMatch(/failed|error|skipped/i);
  });

  it('builds the bundle through awsebcli as eb deploy does: app, configs and model in; .git, venvs, tests, data, build-time tools, secrets out', () => {
    run('git', ['init', '-q'], project);
    writeFileSync(path.join(project, '.env'), 'SECRET=do-not-ship\n');
    plantSecrets(project);
    writeFileSync(path.join(project, 'model', '.env'), 'SECRET=do-not-ship\n'); // inside an allowed folder too
    const bundled = spawnSync(
      'make',
      ['--no-print-directory', `VENV=${appVenv}`, `EBCLI_VENV=${ebcliVenv}`, 'bundle', 'LABEL=e2e-check'],
      { cwd: project, encoding: 'utf8' },
    );
    const out = bundled.stdout;
    const zip = path.join(project, '.elasticbeanstalk', 'app_versions', 'e2e-check.zip');
    expect(out).toContain(zip);
    // awsebcli's per-file "INFO: -skipping: ..." lines stay out; what a person reads is the size and file count
    const said = `${bundled.stdout}${bundled.stderr}`;
    expect(said).not.toMatch(/INFO|skipping/);
    expect(bundled.stderr).toMatch(
      /^bundle: \.elasticbeanstalk\/app_versions\/e2e-check\.zip, \d+ files, [\d.]+ [KM]B \([\d.]+ [KM]B unpacked\)$/m,
    );
    expectBundle(
      zip,
      [
        'application.py',
        'features.py', // the model runs its derive(); the service checks its sha256 at start-up
        'serving/app.py',
        'serving/contract.json',
        'serving/settings.py',
        'requirements.txt',
        'Procfile',
        '.ebextensions/02_flask.config',
        '.platform/nginx/conf.d/01_body_size.conf',
        'model/model.skops',
        'model/schema.json',
        'trust.json',
      ],
      [
        /^\.git\//,
        /^\.venv/,
        /^tests\//,
        /^data\//,
        /__pycache__/,
        /^\.env$/,
        /^\.yo-rc\.json$/,
        /^\.elasticbeanstalk\//,
        /\.pyc$/,
        /^\.ebignore$/,
        /^Makefile$/,
        /^\.sci-eb\//,
        // Build-time code never ships: the tools package (schema derivation, ONNX conversion, the importer), the
        // training script and the lint settings.
        /^tools\//,
        /^serving\/(schema_derivation|onnx_conversion)\.py$/,
        /^train\.py$/,
        /^ruff\.toml$/,
        /^model\/\.env$/,
      ],
    );
    // An allow-list: nothing ships but the service, its derived features, its model and trust, and what EB reads.
    expectOnlyAllowed(
      zip,
      /^(application\.py|features\.py|requirements\.txt|Procfile|trust\.json|(serving|model|\.ebextensions|\.platform)\/.+)$/,
    );
  });

  it('make create without AWS credentials says how to give them, before calling AWS', () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-nocreds-'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const r = spawnSync('make', ['--no-print-directory', `VENV=${appVenv}`, `EBCLI_VENV=${ebcliVenv}`, 'create'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /No AWS credentials found[\s\S]*export AWS_ACCESS_KEY_ID=\.\.\. AWS_SECRET_ACCESS_KEY=\.\.\.[\s\S]*~\/\.aws\/credentials[\s\S]*Then run make create again/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/eb create|Traceback/);
  });

  describe('make deploy ships only a bundle that starts, and says why not before the EB CLI runs', () => {
    // An EB CLI virtualenv whose `eb` records its arguments: nothing may reach it from a refused deploy. Its python is
    // the real one (the credentials check uses botocore), with placeholder credentials that never reach AWS.
    const stub = () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-ebstub-'));
      mkdirSync(path.join(dir, 'bin'));
      writeFileSync(path.join(dir, 'bin', 'eb'), `#!/bin/sh\necho "$@" >> "${dir}/calls"\n`);
      writeFileSync(path.join(dir, 'bin', 'python'), `#!/bin/sh\nexec "${ebcliVenv}/bin/python" "$@"\n`);
      for (const f of ['eb', 'python']) chmodSync(path.join(dir, 'bin', f), 0o755);
      writeFileSync(path.join(dir, '.installed'), '');
      return {
        dir,
        calls: () => (existsSync(path.join(dir, 'calls')) ? readFileSync(path.join(dir, 'calls'), 'utf8') : ''),
      };
    };
    const deploy = (ebcli: string, label: string) =>
      spawnSync(
        'make',
        ['--no-print-directory', `VENV=${appVenv}`, `EBCLI_VENV=${ebcli}`, 'deploy', `LABEL=${label}`],
        {
          cwd: project,
          encoding: 'utf8',
          env: { ...process.env, AWS_ACCESS_KEY_ID: 'placeholder', AWS_SECRET_ACCESS_KEY: 'placeholder' },
        },
      );
    const zipOf = (label: string) => path.join(project, '.elasticbeanstalk', 'app_versions', `${label}.zip`);

    it("a model whose sha256 is not its schema's: refused with the reason, eb never called", () => {
      const eb = stub();
      const artifact = path.join(project, 'model', 'model.skops');
      const saved = path.join(work, 'model.skops.saved');
      copyFileSync(artifact, saved);
      try {
        writeFileSync(artifact, Buffer.concat([readFileSync(saved), Buffer.from('tampered')]));
        const r = deploy(eb.dir, 'e2e-tampered');
        expect(r.status).not.toBe(0);
        expect(`${r.stdout}${r.stderr}`).toMatch(/sha256 is [0-9a-f]{64} but schema\.json expects [0-9a-f]{64}/);
        expect(eb.calls()).toBe('');
        expect(existsSync(zipOf('e2e-tampered'))).toBe(false);
      } finally {
        copyFileSync(saved, artifact);
      }
    }, 600_000);

    it('a bundle that leaves the model out (tests pass in the project, the zip would not start): refused, zip deleted', () => {
      // The bundle check on its own: the zip built as eb deploy builds it, minus the artifact.
      const ebignore = path.join(project, '.ebignore');
      const saved = readFileSync(ebignore, 'utf8');
      try {
        writeFileSync(ebignore, `${saved}model/model.skops\n`);
        run(
          'make',
          ['--no-print-directory', `VENV=${appVenv}`, `EBCLI_VENV=${ebcliVenv}`, 'bundle', 'LABEL=e2e-nomodel'],
          project,
        );
        const r = spawnSync(path.join(appVenv, 'bin', 'python'), ['tools/check_bundle.py', zipOf('e2e-nomodel')], {
          cwd: project,
          encoding: 'utf8',
        });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(
          /refusing to deploy .*e2e-nomodel\.zip: cannot read .*model\.skops.*\nNothing was uploaded/s,
        );
        expect(existsSync(zipOf('e2e-nomodel'))).toBe(false);
      } finally {
        writeFileSync(ebignore, saved);
      }
    });

    it('a good bundle: checked, then handed to eb deploy by its label, so the checked zip is what is uploaded', () => {
      const eb = stub();
      const r = deploy(eb.dir, 'e2e-good');
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/\d+ passed/); // make test ran first
      expect(r.stdout).toMatch(/the model matches its schema and passed its start-up self-test/);
      expect(eb.calls()).toBe('deploy iris-e2e-env --label e2e-good\n');
      expect(existsSync(zipOf('e2e-good'))).toBe(true);
    }, 600_000);
  });

  it('make local with 127.0.0.1:8000 taken (make serve in another terminal) says so at once, building nothing', async () => {
    releasePort = await acquirePort8000();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(PORT, '127.0.0.1', resolve));
    const started = Date.now();
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        'make',
        ['--no-print-directory', `EBCLI_VENV=${ebcliVenv}`, `STAGE_DIR=${path.join(work, 'stage-busy')}`, 'local'],
        { cwd: project },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      child.once('close', (code) => resolve({ code, out }));
    });
    await new Promise((resolve) => squatter.close(resolve));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(
      /127\.0\.0\.1:8000 is already in use, probably by make serve or make local in another terminal: stop that one \(Ctrl-C\)/,
    );
    expect(r.out).not.toMatch(/bundle\.py|Connection in use/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(path.join(work, 'stage-busy'))).toBe(false);
  }, 900_000); // the port lock may be held by another suite for a while

  it('a model that fails its start-up self-test never answers 200 on the health path: gunicorn exits with the reason', async () => {
    // The Procfile's command on a copy of the project whose hook breaks the model's input: create_app runs the
    // self-test before any route exists (with --preload, in the master, before a worker forks), so no process ever
    // listens with a health route, and EB's health check (and an immutable deploy) can never promote it.
    const broken = path.join(work, 'broken-hook');
    cpSync(project, broken, {
      recursive: true,
      filter: (src) => !/\/(\.git|\.elasticbeanstalk|__pycache__|\.pytest_cache)(\/|$)/.test(src),
    });
    const app = read(broken, 'application.py').replace(
      /def before_predict\(frame\):[\s\S]*?return frame\n/,
      'def before_predict(frame):\n    return frame.iloc[:, :2]\n',
    );
    expect(app).toContain('frame.iloc[:, :2]');
    writeFileSync(path.join(broken, 'application.py'), app);
    const { web } = openProject(broken);
    const child = spawn('sh', ['-c', `exec ${web}`], {
      cwd: broken,
      env: { ...process.env, PATH: `${appVenv}/bin:${process.env.PATH}` },
    });
    let log = '';
    child.stdout!.on('data', (d) => {
      log += d;
    });
    child.stderr!.on('data', (d) => {
      log += d;
    });
    const statuses: number[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let done = false;
    void exited.then(() => {
      done = true;
    });
    while (!done) {
      try {
        statuses.push((await fetch(`http://127.0.0.1:${PORT}/health`)).status);
      } catch {
        /* nothing listening: as it should be */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await exited).not.toBe(0);
    expect(statuses.filter((s) => s === 200)).toEqual([]);
    expect(log).toMatch(/the model was trained on the columns .* but gets .*before_predict must return the columns/);
  }, 120_000);

  it('make local: the bundle unpacked in a fresh folder, installed and started with the Procfile command, serves over HTTP', async () => {
    const stage = path.join(work, 'stage');
    server = spawn(
      'make',
      ['--no-print-directory', `EBCLI_VENV=${ebcliVenv}`, `STAGE_DIR=${stage}`, `STAGE_VENV=${appVenv}`, 'local'],
      { cwd: project, detached: true },
    );
    server.stdout!.on('data', (d) => {
      serverLog += d;
    });
    server.stderr!.on('data', (d) => {
      serverLog += d;
    });
    const base = `http://127.0.0.1:${PORT}`;
    await waitForHttp(`${base}/health`, server, () => serverLog, 300_000);
    // It runs from the staged copy, not the project.
    expect(readFileSync(path.join(stage, 'Procfile'), 'utf8')).toBe(read(project, 'Procfile'));
    expect(serverLog).toMatch(/gunicorn/i);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    // The schema's public part: what callers need, not how the model was made (docs/contract.md).
    const schema = await (await fetch(`${base}/v1/schema`)).json();
    const written = JSON.parse(read(project, 'model/schema.json'));
    const { name, version, task } = written.model;
    expect(schema).toEqual({ ...written, model: { name, version, task } });
    expect(written.model.sklearnVersion).toBeDefined();

    const row = { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 };
    const ok = await fetch(`${base}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [row, { ...row, petal_length_cm: 6.0, petal_width_cm: 2.3 }] }),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-model-version')).toBe(schema.model.version);
    const body = await ok.json();
    expect(body.predictions).toEqual(['setosa', 'virginica']);
    expect(body.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(body.probabilities[0].reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 6);

    const bad = await fetch(`${base}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [{ ...row, sepal_width_cm: 'SECRET-VALUE-42' }] }),
    });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await bad.text();
    expect(problem).not.toContain('SECRET-VALUE-42');
    expect(JSON.parse(problem).errors).toEqual([
      expect.objectContaining({ pointer: '/instances/0/sepal_width_cm', code: 'not_a_number' }),
    ]);
  });
});

describe('other datasets and estimators train and pass their own tests', () => {
  const cases: Array<[string, string[]]> = [
    [
      'houses',
      [
        '--dataset',
        'csv',
        '--csv',
        path.join(FIXTURES, 'houses.csv'),
        '--target',
        'price_band',
        '--estimator',
        'gradient_boosting',
      ],
    ],
    ['diabetes', ['--task', 'regression', '--dataset', 'diabetes', '--estimator', 'ridge']],
    ['wine', ['--dataset', 'wine', '--estimator', 'logistic_regression', '--health-check-path', '/healthz']],
  ];
  for (const [name, options] of cases) {
    it(`${name}: ${options.filter((o) => !o.startsWith('--') && !o.includes('/')).join(' ')}`, () => {
      const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-e2e-'));
      run('node', [LAUNCHER, 'app', name, '--yes', '--skip-install', ...options], work);
      const project = path.join(work, name);
      const venv = sharedVenv('app', [path.join(project, 'requirements-dev.txt')]);
      const train = run('make', ['--no-print-directory', `VENV=${venv}`, 'train'], project);
      expect(train).toMatch(name === 'diabetes' ? /r2/i : /accuracy/i);
      const tests = run('make', ['--no-print-directory', `VENV=${venv}`, 'test'], project);
      expect(tests).toMatch(/\d+ passed/);
      expect(tests).not.toMatch(/failed|skipped/);
    });
  }
});

describe('bad training data: a clear message from make train, and no model written', () => {
  const cases: Array<[string, string, string[], RegExp]> = [
    [
      'a single class',
      'colour,size,label\nred,1,yes\nblue,2,yes\nred,3,yes\nblue,4,yes\nred,5,yes\nblue,6,yes\nred,7,yes\nblue,8,yes\nred,9,yes\nblue,10,yes\nred,11,yes\n',
      ['--target', 'label'],
      /single class/,
    ],
    [
      'a non-numeric regression target',
      'colour,size,price\nred,1,cheap\nblue,2,dear\nred,3,cheap\nblue,4,dear\nred,5,cheap\nblue,6,dear\nred,7,cheap\nblue,8,dear\nred,9,cheap\nblue,10,dear\nred,11,cheap\n',
      ['--target', 'price', '--task', 'regression', '--estimator', 'ridge'],
      /numeric|number/i,
    ],
  ];
  for (const [what, csv, options, message] of cases) {
    it(what, () => {
      const work = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-e2e-'));
      writeFileSync(path.join(work, 'data.csv'), csv);
      run(
        'node',
        [LAUNCHER, 'app', 'bad-data', '--yes', '--skip-install', '--dataset', 'csv', '--csv', 'data.csv', ...options],
        work,
      );
      const project = path.join(work, 'bad-data');
      const venv = sharedVenv('app', [path.join(project, 'requirements-dev.txt')]);
      const r = spawnSync('make', ['--no-print-directory', `VENV=${venv}`, 'train'], {
        cwd: project,
        encoding: 'utf8',
      });
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(message);
      expect(existsSync(path.join(project, 'model'))).toBe(false);
    });
  }
});
