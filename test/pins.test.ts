// Every pin the generator writes must install from a binary wheel on every Python and architecture the platform
// offers (no compiler on AL2023), and the pins must be the whole dependency closure (nothing unpinned slips in).
// Checked against PyPI with pip's own resolver, for the target platform's tags, without installing anything.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeName } from '../src/lib/requirements.js';
import { PLATFORMS } from '../src/lib/platforms.js';
import { ROOT } from './helpers.js';

const pinsFile = (name: string) => path.join(ROOT, 'templates', 'pins', name);
const pinsOf = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [name, version] = l.split('==');
      return { name: normalizeName(name!), version: version! };
    });

// manylinux tags a glibc 2.34 (AL2023) system accepts, newest first; pip needs them spelled out for a foreign platform.
const manylinux = (arch: string) =>
  ['manylinux_2_34', 'manylinux_2_28', 'manylinux_2_27', 'manylinux_2_17', 'manylinux2014'].map((t) => `${t}_${arch}`);

// The interpreter itself, not a version manager's shim: pyenv's shim rehashes after every `pip install` (a dry run
// included) and, with the concurrent checks below, fails on its own lock ("cannot rehash") though pip succeeded.
const PYTHON = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

async function resolve(
  requirements: string,
  python: string,
  platforms: string[],
  { noDeps = false, wheelsOnly = true, ignorePython = false, native = false } = {},
) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pins-'));
  const report = path.join(dir, 'report.json');
  await promisify(execFile)(
    PYTHON,
    [
      '-m',
      'pip',
      'install',
      '--dry-run',
      '--ignore-installed',
      '--disable-pip-version-check',
      '-q',
      // native: for this machine's Python and platform, sdists built for their metadata as pip install would
      ...(native
        ? []
        : [
            ...(wheelsOnly ? ['--only-binary=:all:'] : []),
            ...(ignorePython ? ['--ignore-requires-python'] : []),
            ...platforms.flatMap((p) => ['--platform', p]),
            '--python-version',
            python,
            '--implementation',
            'cp',
            '--target',
            path.join(dir, 'target'),
          ]),
      '--report',
      report,
      ...(noDeps ? ['--no-deps'] : []),
      '-r',
      requirements,
    ],
    { timeout: 180_000 },
  );
  const installed = JSON.parse(readFileSync(report, 'utf8')).install as Array<{
    metadata: { name: string; version: string };
    download_info: { url: string };
  }>;
  return installed.map((i) => ({
    name: normalizeName(i.metadata.name),
    version: i.metadata.version,
    file: i.download_info.url.split('/').pop()!,
  }));
}

/** Several pin files as one requirements file (the dev closure is requirements.txt plus the training pins). */
function joined(files: string[]): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pins-')), 'requirements.txt');
  writeFileSync(file, files.map((f) => readFileSync(pinsFile(f), 'utf8')).join(''));
  return file;
}

/**
 * The pin sets EB installs (requirements.txt of each runtime), and on the onnx runtime the training pins of
 * requirements-dev.txt, which only the developer's machine installs: checked for every Python the al2023 platform
 * offers (src/lib/platforms.ts: a version added there is checked here) and both architectures, since that machine may
 * be aarch64 Linux too (a Graviton workstation, a container on Apple silicon) and the venv is made with its Python.
 */
const PIN_SETS: Array<{ what: string; files: string[]; arches: string[] }> = [
  { what: 'requirements.txt (sklearn runtime)', files: ['al2023.txt'], arches: ['x86_64', 'aarch64'] },
  { what: 'requirements.txt (onnx runtime)', files: ['al2023-onnx.txt'], arches: ['x86_64', 'aarch64'] },
  {
    // What tools/import_model.py adds for a model with LightGBM, XGBoost or CatBoost steps (sklearn runtime only).
    what: 'requirements.txt with every library a model may bring (libraries-al2023.txt)',
    files: ['al2023.txt', 'libraries-al2023.txt'],
    arches: ['x86_64', 'aarch64'],
  },
  {
    what: "requirements-dev.txt's training pins (onnx runtime)",
    files: ['al2023-onnx.txt', 'training-al2023-onnx.txt'],
    arches: ['x86_64', 'aarch64'],
  },
  {
    // On the onnx runtime a LightGBM or XGBoost model's library is a build-time pin in requirements-dev.txt, beside
    // onnxmltools, which converts it (service/tools/onnx_converters.py).
    what: "requirements-dev.txt's training pins with every library a model may bring (onnx runtime)",
    files: ['al2023-onnx.txt', 'training-al2023-onnx.txt', 'libraries-al2023.txt'],
    arches: ['x86_64', 'aarch64'],
  },
];

// Each check waits on PyPI, not the CPU: they run side by side (vitest's maxConcurrency, 5 at a time).
describe.concurrent('pinned requirements', () => {
  for (const set of PIN_SETS) {
    const pins = set.files.flatMap((f) => pinsOf(pinsFile(f)));
    for (const python of PLATFORMS.al2023.pythonVersions) {
      for (const arch of set.arches) {
        it(`al2023 ${set.what}, Python ${python}, ${arch}: every pin is a wheel and the pins are the whole closure`, async () => {
          const resolved = await resolve(joined(set.files), python, manylinux(arch));
          for (const r of resolved) expect(r.file, r.name).toMatch(/\.whl$/);
          expect(resolved.map((r) => `${r.name}==${r.version}`).sort()).toEqual(
            pins.map((p) => `${p.name}==${p.version}`).sort(),
          );
        }, 180_000);
      }
    }
  }

  it('the libraries a model brings are the lightest that serve: XGBoost without CUDA, nothing from NVIDIA', () => {
    const names = pinsOf(pinsFile('libraries-al2023.txt')).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['lightgbm', 'xgboost-cpu', 'catboost']));
    expect(names).not.toContain('xgboost');
    expect(names.filter((n) => n.startsWith('nvidia'))).toEqual([]);
    // The importer reads the copy every project gets (templates/files.json); here it is a link to the same file.
    expect(readFileSync(path.join(ROOT, 'service', 'tools', 'importer', 'library-pins.txt'), 'utf8')).toBe(
      readFileSync(pinsFile('libraries-al2023.txt'), 'utf8'),
    );
  });

  it("the onnx runtime's requirements.txt holds no training tool", () => {
    const names = pinsOf(pinsFile('al2023-onnx.txt')).map((p) => p.name);
    expect(names).toContain('onnxruntime');
    for (const tool of ['scikit-learn', 'scipy', 'pandas', 'skops', 'skl2onnx', 'onnx', 'joblib'])
      expect(names).not.toContain(tool);
  });

  it('legacy Amazon Linux AMI, Python 3.6: every pin has a manylinux1 wheel (the yum toolchain is the fallback)', async () => {
    // With --no-deps pip checks Requires-Python against the interpreter running it (3.11) instead of the target; the
    // cp36 wheel tags still prove each file is for Python 3.6.
    const resolved = await resolve(
      pinsFile('amazon-linux-ami.txt'),
      '3.6.8',
      ['manylinux1_x86_64', 'manylinux2010_x86_64'],
      { noDeps: true, ignorePython: true },
    );
    expect(resolved.map((r) => r.name).sort()).toEqual(
      pinsOf(pinsFile('amazon-linux-ami.txt'))
        .map((p) => p.name)
        .sort(),
    );
    for (const r of resolved) expect(r.file, r.name).toMatch(/\.whl$/);
  }, 180_000);

  it('the dev pins are wheels for every al2023 Python', async () => {
    for (const python of PLATFORMS.al2023.pythonVersions) {
      expect(
        (await resolve(pinsFile('dev-al2023.txt'), python, manylinux('x86_64'), { noDeps: true }))
          .map((r) => r.name)
          .sort(),
      ).toEqual(
        pinsOf(pinsFile('dev-al2023.txt'))
          .map((p) => p.name)
          .sort(),
      );
    }
  }, 180_000);

  // The EB CLI's venv is made on the developer's machine with its Python (any the platform offers). awsebcli ships
  // only as an sdist, which pip resolves for a foreign platform only without its dependencies: so its tree is checked
  // in two steps. The pins besides awsebcli: wheels for every al2023 Python and both architectures, and their own
  // closure. Then awsebcli's requirements, read by pip from its sdist for this machine's Python: with the pins, pip
  // installs exactly the pins (nothing unpinned, nothing to resolve).
  const ebcliPins = () => pinsOf(pinsFile('ebcli.txt')).map((p) => `${p.name}==${p.version}`);
  // (The EB CLI runs on the developer's machine, never on EB: aarch64 Linux is checked for the default Python.)
  for (const python of PLATFORMS.al2023.pythonVersions) {
    for (const arch of python === PLATFORMS.al2023.defaultPython ? ['x86_64', 'aarch64'] : ['x86_64']) {
      it(`the EB CLI's dependency pins, Python ${python}, ${arch}: wheels, and their own whole closure`, async () => {
        const deps = ebcliPins().filter((p) => !p.startsWith('awsebcli=='));
        const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pins-')), 'requirements.txt');
        writeFileSync(file, `${deps.join('\n')}\n`);
        const resolved = await resolve(file, python, manylinux(arch));
        for (const r of resolved) expect(r.file, r.name).toMatch(/\.whl$/);
        expect(resolved.map((r) => `${r.name}==${r.version}`).sort()).toEqual(deps.sort());
      }, 180_000);
    }
  }

  it("awsebcli's whole tree is pinned: pip, reading its sdist, installs exactly the pins", async () => {
    const resolved = await resolve(pinsFile('ebcli.txt'), '', [], { native: true });
    expect(resolved.map((r) => `${r.name}==${r.version}`).sort()).toEqual(ebcliPins().sort());
  }, 180_000);
});
