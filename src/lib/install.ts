/** The generator's install step, as data: the same commands `make venv train` runs. */
import type { Answers } from './answers.js';
import { spawnSync } from 'node:child_process';

export interface InstallStep { title: string; command: string; args: string[] }

/** The platform's Python if this machine has it, else python3 (the generated Makefile makes the same choice). */
export function pickPython(version: string, has = (cmd: string) => spawnSync(cmd, ['--version']).status === 0): string {
  return has(`python${version}`) ? `python${version}` : 'python3';
}

/** importArgs: tools/import_model.py's arguments when the project is made around an existing model (no training). */
export function installSteps(a: Answers, python = pickPython(a.pythonVersion), importArgs?: string[]): InstallStep[] {
  return [
    { title: 'Create the virtualenv', command: python, args: ['-m', 'venv', '.venv'] },
    { title: 'Install requirements', command: '.venv/bin/python', args: ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', 'requirements-dev.txt'] },
    importArgs
      ? { title: 'Import your model (derive schema.json, prove it, swap it in)', command: '.venv/bin/python', args: ['tools/import_model.py', ...importArgs] }
      : { title: 'Train the model', command: '.venv/bin/python', args: ['train.py'] },
    ...(a.gateway ? gatewaySteps() : []),
  ];
}

/** The gateway needs the trained model's schema: the same as `make gateway`. */
export function gatewaySteps(): InstallStep[] {
  return [{ title: 'Install the gateway and generate its types from model/schema.json', command: 'make', args: ['--no-print-directory', 'gateway'] }];
}
