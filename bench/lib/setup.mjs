// Everything the benchmark needs, built from the repository by the harness: the generator and the gateway compiled,
// the two projects generated from the reference answers (.yo-rc.json: iris, random forest, 2 workers) and the same
// answers with logistic regression, the shared virtualenv, and both models trained.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildCheckout, GATEWAY, prepareProject, ROOT } from '../../harness/index.mjs';

export { GATEWAY, ROOT };
export const BENCH = path.join(ROOT, 'bench');
export const TMP = path.join(BENCH, 'tmp'); // git-ignored
export const LOGS = path.join(TMP, 'logs');

export const PROJECTS = {
  forest: { estimator: 'random_forest', title: 'random forest (100 trees)' },
  logreg: { estimator: 'logistic_regression', title: 'logistic regression' },
};

/** Builds the checkout, then generates and trains the projects named (both by default). */
export function setup(log, names = Object.keys(PROJECTS)) {
  log('setup');
  buildCheckout(log);
  const parent = path.join(TMP, 'projects');
  const answers = path.join(ROOT, '.yo-rc.json');
  const projects = {};
  let venv;
  for (const name of names) {
    const p = PROJECTS[name];
    // The reference answers; only the estimator changes for the second project.
    const project = prepareProject({
      parent,
      name,
      args: ['--answers', answers, '--estimator', p.estimator],
      log,
      fresh: venv === undefined,
    });
    venv = project.venv;
    const artifactBytes = readFileSync(
      path.join(project.dir, 'model', project.schema.model.artifact ?? 'model.joblib'),
    ).length;
    projects[name] = { ...p, ...project, artifactBytes };
  }
  return { projects, venv };
}
