// The LightGBM and XGBoost models of case 5: for each library a classifier of a typical size (bench/library_model.py:
// 300 rounds on the iris features), brought the way a user brings one (`sci-eb model import` with a sample) into two
// projects from the reference answers, one per runtime. The sklearn project then pins the library in requirements.txt
// (EB installs it); the onnx project converts the model with onnxmltools and pins it in requirements-dev.txt only.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAUNCHER, openProject, runStep, sharedVenv } from '../../harness/index.mjs';
import { BENCH, ROOT, TMP } from './setup.mjs';

export const LIBRARIES = { lightgbm: 'lightgbm', xgboost: 'xgboost-cpu' };

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
 */
export function libraryProjects(log, referenceSchema) {
  const parent = path.join(TMP, 'library-projects');
  // made afresh each run, as setup() makes the generated projects: `sci-eb app` refuses a folder that exists
  rmSync(parent, { recursive: true, force: true });
  mkdirSync(parent, { recursive: true });
  const out = {};
  for (const library of Object.keys(LIBRARIES)) {
    out[library] = {};
    for (const runtime of ['sklearn', 'onnx']) {
      const name = `${library}-${runtime}`;
      runStep(
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
      // One model per library, fitted once and brought into both projects
      if (runtime === 'sklearn')
        runStep(log, `fit ${library} (bench/library_model.py)`, path.join(venv, 'bin', 'python'), [
          path.join(BENCH, 'library_model.py'),
          library,
          referenceSchema,
          model,
          sample,
        ]);
      runStep(
        log,
        `sci-eb model import ${library}.joblib (${runtime})`,
        process.execPath,
        [LAUNCHER, 'model', 'import', model, '--sample', sample, '--trust-pickle'],
        { cwd: dir, env: { ...process.env, VENV: venv } },
      );
      out[library][runtime] = { ...openProject(dir), estimator: library };
    }
  }
  return out;
}
