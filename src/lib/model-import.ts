/**
 * Bringing your own model, the Node side: `sci-eb model import PATH ...` and `sci-eb app NAME --model PATH` both run
 * the project's managed tools/import_model.py in the project's venv, which does all the work (identify, load safely,
 * derive schema.json, prove, swap). This file only finds the project and the venv, and checks the paths given to the
 * app generator before anything is written.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelCommandError } from './errors.js';

export const IMPORT_TOOL = 'tools/import_model.py';

export const MODEL_USAGE =
  'Usage: sci-eb model import PATH --sample CSV [--target COLUMN] [--trust-pickle] [--trust-type MODULE.CLASS]...\n' +
  '                                             [--feature-type NAME=TYPE]...\n' +
  '  PATH: a scikit-learn model saved with skops, joblib or pickle, or an MLflow sklearn model folder.\n' +
  '  --feature-type sets a column type over what the model and the sample say (number, integer, category, text, boolean, date, datetime).\n' +
  '  A model from another scikit-learn re-pins requirements.txt to its version and rebuilds the venv (--keep-pins: refuse instead).\n' +
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
}

export function importArgs(source: ModelSource, cwd: string): string[] {
  return [
    path.resolve(cwd, source.model),
    ...(source.sample ? ['--sample', path.resolve(cwd, source.sample)] : []),
    ...(source.target ? ['--target', source.target] : []),
    ...(source.trustPickle ? ['--trust-pickle'] : []),
    ...(source.trustTypes ?? []).flatMap((t) => ['--trust-type', t]),
    ...(source.featureTypes ?? []).flatMap(([name, kind]) => ['--feature-type', `${name}=${kind}`]),
  ];
}

// First bytes of a pickle (protocol 2+) and of joblib's compressed pickles (zlib, gzip, bz2, xz, lz4).
const PICKLE_MAGIC = [
  [0x80],
  [0x78, 0x01],
  [0x78, 0x5e],
  [0x78, 0x9c],
  [0x78, 0xda],
  [0x1f, 0x8b],
  [0x42, 0x5a, 0x68],
  [0xfd, 0x37, 0x7a, 0x58, 0x5a],
  [0x04, 0x22, 0x4d, 0x18],
];

/** Problems with `sci-eb app --model` found before anything is written (the importer checks everything else). */
export function modelSourceProblems(source: ModelSource, cwd: string): string[] {
  const problems: string[] = [];
  const model = path.resolve(cwd, source.model);
  if (!existsSync(model)) problems.push(`--model: ${source.model} does not exist; give the path of your saved model`);
  else if (statSync(model).isDirectory() && !existsSync(path.join(model, 'MLmodel')))
    problems.push(`--model: ${source.model} is a folder without an MLmodel file, so not an MLflow model`);
  else if (
    statSync(model).isDirectory() &&
    !source.trustPickle &&
    !/serialization_format:\s*skops/.test(readFileSync(path.join(model, 'MLmodel'), 'utf8'))
  ) {
    problems.push(
      `--model: ${source.model} is an MLflow model saved as a pickle (cloudpickle or pickle): loading it runs whatever code it contains, so add --trust-pickle only if you trust who made it`,
    );
  } else if (statSync(model).isFile() && !source.trustPickle) {
    const head = Buffer.alloc(8);
    const fd = openSync(model, 'r');
    try {
      readSync(fd, head, 0, 8, 0);
    } finally {
      closeSync(fd);
    }
    if (PICKLE_MAGIC.some((m) => m.every((b, i) => head[i] === b))) {
      problems.push(
        `--model: ${source.model} is a pickle (joblib or pickle): loading it runs whatever code it contains, so add --trust-pickle only if you made it or trust who did (safer: save it with skops.io.dump)`,
      );
    }
  }
  if (!source.sample)
    problems.push(
      '--sample: required with --model: a CSV of rows the model accepts gives schema.json its types, categories and ranges, and the rows the import proves the model on',
    );
  else if (!existsSync(path.resolve(cwd, source.sample))) problems.push(`--sample: ${source.sample} does not exist`);
  return problems;
}
