/**
 * Bringing your own model, the Node side: `sci-eb model import PATH ...` and `sci-eb app NAME --model PATH` both run
 * the project's managed tools/import_model.py in the project's venv, which does all the work (identify, load safely,
 * derive schema.json, prove, swap). This file only finds the project and the venv, and checks the paths given to the
 * app generator before anything is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelCommandError } from './errors.js';
import { TEMPLATES_DIR } from './file-specs.js';

export const IMPORT_TOOL = 'tools/import_model.py';

export const MODEL_USAGE =
  'Usage: sci-eb model import PATH [--sample CSV] [--target COLUMN] [--trust-pickle] [--trust-type MODULE.CLASS]...\n' +
  '                               [--trust-mlflow-types] [--code PATH]... [--feature-type NAME=TYPE]...\n' +
  '  PATH: a scikit-learn model (LightGBM, XGBoost and CatBoost steps included) saved with skops, joblib or pickle,\n' +
  '  or an MLflow sklearn model folder (with a signature and an input example it needs no --sample).\n' +
  '  --feature-type sets a column type over what the model and the sample say (number, integer, category, text, boolean, date, datetime).\n' +
  '  A model from another scikit-learn, or needing a library, re-pins requirements.txt (--keep-pins: refuse instead).\n' +
  '  Run inside a generated project whose venv exists (make venv). Options: .venv/bin/python tools/import_model.py --help';

/** The venv's python: $VENV (as the Makefile's VENV) or .venv. */
export function projectPython(projectDir: string, venv = process.env.VENV): string {
  return path.resolve(projectDir, venv || '.venv', 'bin', 'python');
}

/** `sci-eb model import ...` in `cwd`: the command to run, or an error saying what to fix. */
export function modelCommand(argv: string[], cwd: string): { command: string; args: string[] } {
  if (argv[0] !== 'import')
    throw new ModelCommandError(
      `${argv[0] ? `unknown model command "${argv[0]}"` : 'no model command'}.\n${MODEL_USAGE}`,
    );
  if (argv.length < 2 || argv[1]!.startsWith('-'))
    throw new ModelCommandError(`give the model's PATH.\n${MODEL_USAGE}`);
  if (!existsSync(path.join(cwd, IMPORT_TOOL))) {
    throw new ModelCommandError(
      `${cwd} is not a sci-eb project with ${IMPORT_TOOL}: cd into the project (or run \`sci-eb upgrade\` there to get the importer)`,
    );
  }
  const python = projectPython(cwd);
  if (!existsSync(python))
    throw new ModelCommandError(`the project's venv (${python}) does not exist: run \`make venv\` first (or set VENV)`);
  return { command: python, args: [IMPORT_TOOL, ...argv.slice(1)] };
}

export function runModelCommand(argv: string[], cwd: string): number {
  const { command, args } = modelCommand(argv, cwd);
  return spawnSync(command, args, { cwd, stdio: 'inherit' }).status ?? 1;
}

/** Options of `sci-eb app --model`, as tools/import_model.py arguments (paths made absolute: it runs in the project). */
export interface ModelSource {
  model: string;
  sample?: string;
  target?: string;
  trustPickle?: boolean;
  trustTypes?: string[];
  /** --feature-type NAME=TYPE pairs (the featureTypes answer). */
  featureTypes?: Array<[string, string]>;
  /** MLflow's skops_trusted_types, accepted at once. */
  trustMlflowTypes?: boolean;
  /** The user's own modules the model uses (files or folders), brought into model_code/. */
  code?: string[];
}

export function importArgs(source: ModelSource, cwd: string): string[] {
  return [
    path.resolve(cwd, source.model),
    ...(source.sample ? ['--sample', path.resolve(cwd, source.sample)] : []),
    ...(source.target ? ['--target', source.target] : []),
    ...(source.trustPickle ? ['--trust-pickle'] : []),
    ...(source.trustTypes ?? []).flatMap((t) => ['--trust-type', t]),
    ...(source.featureTypes ?? []).flatMap(([name, kind]) => ['--feature-type', `${name}=${kind}`]),
    ...(source.trustMlflowTypes ? ['--trust-mlflow-types'] : []),
    ...(source.code ?? []).flatMap((c) => ['--code', path.resolve(cwd, c)]),
  ];
}

/** Problems with `sci-eb app --model` that need no Python: paths that do not exist (the preflight decides the rest). */
export function modelSourceProblems(source: ModelSource, cwd: string): string[] {
  const problems: string[] = [];
  if (!existsSync(path.resolve(cwd, source.model)))
    problems.push(`--model: ${source.model} does not exist; give the path of your saved model`);
  if (source.sample && !existsSync(path.resolve(cwd, source.sample)))
    problems.push(`--sample: ${source.sample} does not exist`);
  for (const code of source.code ?? [])
    if (!existsSync(path.resolve(cwd, code)))
      problems.push(`--code: ${code} does not exist; give your module's .py file or its folder`);
  return problems;
}

/** The project a preflight judges the model against: what `sci-eb app` is about to write. */
export interface PreflightTarget {
  pythonVersion: string;
  architecture: 'x86_64' | 'arm64';
  runtime: 'sklearn' | 'onnx';
  /** The requirements.txt pins the project will have (templates/pins/<set>.txt). */
  requirements: string;
}

export interface PreflightResult {
  problems: string[];
  notes: string[];
  /** {distribution: version} the import will add to requirements.txt (or re-pin). */
  libraries: Record<string, string>;
  code: string[];
  sklearnVersion: string | null;
}

/** The generator's copy of the service's Python, where tools/importer/preflight.py runs from. */
export const SERVICE_DIR = path.join(TEMPLATES_DIR, '..', 'service');

/** The preflight's command line: the system's Python, standard library only, nothing written (-B: no __pycache__). */
export function preflightCommand(source: ModelSource, target: PreflightTarget, cwd: string, python = 'python3') {
  const pins = readFileSync(target.requirements, 'utf8');
  const sklearn = /^scikit-learn==(\S+)/m.exec(pins)?.[1];
  return {
    command: python,
    args: [
      '-B',
      '-m',
      'tools.importer.preflight',
      ...importArgs(source, cwd),
      '--python',
      target.pythonVersion,
      '--arch',
      target.architecture === 'arm64' ? 'aarch64' : 'x86_64',
      '--runtime',
      target.runtime,
      '--requirements',
      target.requirements,
      ...(sklearn ? ['--sklearn', sklearn] : []),
      '--json',
    ],
    cwd: SERVICE_DIR,
  };
}

/**
 * Everything about the model that can be decided before a project or a venv exists (format, trust, the libraries
 * and their wheels, the user's code, the rows for the schema), by the importer's own preflight run with the system's
 * python3: a refusal takes seconds and names each cause with its fix.
 */
export function runPreflight(source: ModelSource, target: PreflightTarget, cwd: string): PreflightResult {
  const python = process.env.PYTHON || 'python3';
  const { command, args, cwd: dir } = preflightCommand(source, target, cwd, python);
  const r = spawnSync(command, args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (r.error)
    return {
      problems: [`cannot run ${python} to check the model (${r.error.message}): install Python 3 or set PYTHON`],
      notes: [],
      libraries: {},
      code: [],
      sklearnVersion: null,
    };
  try {
    return JSON.parse(r.stdout) as PreflightResult;
  } catch {
    return {
      problems: [
        `checking the model with ${python} failed (exit ${r.status}):\n${`${r.stdout}${r.stderr}`.slice(-2000)}`,
      ],
      notes: [],
      libraries: {},
      code: [],
      sklearnVersion: null,
    };
  }
}
