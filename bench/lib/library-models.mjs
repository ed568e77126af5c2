// The LightGBM and XGBoost models of case 5: for each library a classifier of a typical size (bench/library_model.py:
// 300 rounds on the iris features), brought the way a user brings one (`sci-eb model import` with a sample) into two
// projects from the reference answers, one per runtime. The sklearn project then pins the library in requirements.txt
// (EB installs it); the onnx project converts the model with onnxmltools and pins it in requirements-dev.txt only.
// The smoke run imports each library into one project (SMOKE_RUNTIMES: LightGBM on sklearn, XGBoost on onnx), a model
// of a few rounds: both libraries, both runtimes and every step still run, with half the imports and gunicorn starts.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAUNCHER, openProject, runStepAsync, sharedVenv } from '../../harness/index.mjs';
import { BENCH, ROOT, TMP } from './setup.mjs';

export const LIBRARIES = { lightgbm: 'lightgbm', xgboost: 'xgboost-cpu' };
/** The runtimes each library is imported into: both (the full run), or one each (the smoke run). */
export const RUNTIMES = { lightgbm: ['sklearn', 'onnx'], xgboost: ['sklearn', 'onnx'] };
export const SMOKE_RUNTIMES = { lightgbm: ['sklearn'], xgboost: ['onnx'] };

/** The library's own pin, from the pins every project's importer reads (templates/pins/libraries-al2023.txt). */
function libraryPin(pkg) {
  const pins = readFileSync(path.join(ROOT, 'templates', 'pins', 'libraries-al2023.txt'), 'utf8');
  const line = pins.split('\n').find((l) => l.startsWith(`${pkg}==`));
  if (!line) throw new Error(`templates/pins/libraries-al2023.txt pins no ${pkg}`);
  return line;
}

/**
 * A development venv of the project (its requirements-dev.txt) with both libraries, shared by key like every harness
 * venv: the importer finds the library installed and pins that version, so nothing is installed into a shared venv.
 */
function venvWithLibraries(log, dir, runtime) {
  const extra = path.join(TMP, `libraries-${runtime}.txt`);
  writeFileSync(extra, `${Object.values(LIBRARIES).map(libraryPin).join('\n')}\n`);
  return sharedVenv(`bench-libraries-${runtime}`, [path.join(dir, 'requirements-dev.txt'), extra], log);
}

/**
 * {lightgbm: {sklearn, onnx}, xgboost: {sklearn, onnx}}: projects as openProject describes them, model imported.
 * `referenceSchema`: the schema.json of a trained project from the same answers (the features' names and order).
 * `runtimes`: {library: [runtime...]} (RUNTIMES, or SMOKE_RUNTIMES); `rounds`: the boosting rounds (default: the
 * model's own, 300). `concurrently`: each library's steps side by side with the others' (the smoke run: an import
 * spends most of its time waiting on pip's index), which needs every runtime once, since the imports into one
 * runtime's projects share its venv and install into it; else one library after the other.
 */
export async function libraryProjects(
  log,
  referenceSchema,
  { runtimes = RUNTIMES, rounds, concurrently = false } = {},
) {
  const parent = path.join(TMP, 'library-projects');
  // made afresh each run, as setup() makes the generated projects: `sci-eb app` refuses a folder that exists
  rmSync(parent, { recursive: true, force: true });
  mkdirSync(parent, { recursive: true });
  for (const library of Object.keys(runtimes))
    if (!LIBRARIES[library]) throw new Error(`no library ${library}: the libraries are ${Object.keys(LIBRARIES)}`);
  const all = Object.values(runtimes).flat();
  if (concurrently && new Set(all).size < all.length)
    throw new Error(
      `libraries side by side need a runtime each (they install into its venv): ${JSON.stringify(runtimes)}`,
    );

  /** One library: a project per runtime, the model fitted once (in the first project's venv) and imported into each. */
  const importInto = async (library, into) => {
    const projects = {};
    for (const runtime of into) {
      const name = `${library}-${runtime}`;
      await runStepAsync(
        log,
        `generate ${name}`,
        process.execPath,
        [LAUNCHER, 'app', name, '--answers', path.join(ROOT, '.yo-rc.json'), '--runtime', runtime, '--skip-install'],
        { cwd: parent },
      );
      const dir = path.join(parent, name);
      const venv = venvWithLibraries(log, dir, runtime);
      const model = path.join(TMP, `${library}.joblib`);
      const sample = path.join(TMP, `${library}-sample.csv`);
      if (runtime === into[0])
        await runStepAsync(log, `fit ${library} (bench/library_model.py)`, path.join(venv, 'bin', 'python'), [
          path.join(BENCH, 'library_model.py'),
          library,
          referenceSchema,
          model,
          sample,
          ...(rounds ? [String(rounds)] : []),
        ]);
      await runStepAsync(
        log,
        `sci-eb model import ${library}.joblib (${runtime})`,
        process.execPath,
        [LAUNCHER, 'model', 'import', model, '--sample', sample, '--trust-pickle'],
        { cwd: dir, env: { ...process.env, VENV: venv } },
      );
      projects[runtime] = { ...openProject(dir), estimator: library };
    }
    return [library, projects];
  };

  const libraries = Object.entries(runtimes);
  if (concurrently)
    return Object.fromEntries(await Promise.all(libraries.map(([library, into]) => importInto(library, into))));
  const out = {};
  for (const [library, into] of libraries) {
    const [, projects] = await importInto(library, into);
    out[library] = projects;
  }
  return out;
}
