#!/usr/bin/env node
// `sci-eb <generator> [args]`: the same generators as `yo sci-eb:<generator>`, without a global yo. Unlike yo, it does
// not drop root privileges (so it works in root containers and CI) and never waits on a prompt without a terminal.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const generatorsDir = fileURLToPath(new URL('../generators', import.meta.url));
const available = existsSync(generatorsDir)
  ? readdirSync(generatorsDir).filter((name) => existsSync(path.join(generatorsDir, name, 'index.js')))
  : [];

const argv = process.argv.slice(2);
if (available.length === 0) {
  console.error('sci-eb: the generators are not built; run `npm run build` in the generator-sci-eb folder.');
  process.exit(2);
}
const { GENERATOR_SUMMARIES } = await import(path.join(generatorsDir, 'lib', 'options.js'));
const { nearest } = await import(path.join(generatorsDir, 'lib', 'nearest.js'));

function usage() {
  const width = Math.max(...available.map((g) => g.length)) + 4;
  return [
    'Usage: sci-eb <generator> [arguments] [options]',
    '',
    'Generators (default: app):',
    ...available.map((g) => `  ${g.padEnd(width)}${GENERATOR_SUMMARIES[g]?.summary ?? ''}`),
    '',
    'Example: sci-eb app my-service --yes',
    'Bring your own model: sci-eb model import PATH --sample CSV (inside a project), or sci-eb app NAME --model PATH',
    'Each generator lists its options, their defaults and meanings with: sci-eb <generator> --help',
  ].join('\n');
}

if (argv[0] === '--help' || argv[0] === '-h' || (argv.length === 0 && !process.stdin.isTTY)) {
  console.log(usage());
  process.exit(argv.length === 0 ? 2 : 0);
}
if (argv[0] === 'model') {
  // Not a generator: it runs the project's own tools/import_model.py in the project's venv.
  const { runModelCommand } = await import('../generators/lib/model-import.js');
  try {
    process.exit(runModelCommand(argv.slice(1), process.cwd()));
  } catch (error) {
    console.error(`sci-eb: ${error.message}`);
    process.exit(error.exitCode ?? 1);
  }
}
// A first word that is almost a generator's name is a typo, not the name of a new project.
const typo =
  argv[0] && !argv[0].startsWith('-') && !available.includes(argv[0]) ? nearest(argv[0], available) : undefined;
if (typo) {
  console.error(
    `sci-eb: there is no generator "${argv[0]}" (did you mean sci-eb ${typo}?). To create a project named ${argv[0]}, run: sci-eb app ${argv[0]}`,
  );
  process.exit(2);
}
const name = argv[0] && available.includes(argv[0]) ? argv.shift() : 'app';

const { createEnv } = await import('yeoman-environment');
const env = createEnv();
env.register(path.join(generatorsDir, name, 'index.js'), { namespace: `sci-eb:${name}` });
try {
  await env.run([`sci-eb:${name}`, ...argv]);
} catch (error) {
  // Errors written for the user carry an exit code and a message; anything else gets its stack for the bug report.
  const userFacing = typeof error?.exitCode === 'number';
  console.error(userFacing ? `sci-eb: ${error.message}` : error);
  process.exit(userFacing ? error.exitCode : 1);
}
