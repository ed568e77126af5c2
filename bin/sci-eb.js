#!/usr/bin/env node
// `sci-eb <generator> [args]`: the same generators as `yo sci-eb:<generator>`, without a global yo. Unlike yo, it does
// not drop root privileges (so it works in root containers and CI) and never waits on a prompt without a terminal.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEnv } from 'yeoman-environment';

const generatorsDir = fileURLToPath(new URL('../generators', import.meta.url));
const available = existsSync(generatorsDir)
  ? readdirSync(generatorsDir).filter((name) => existsSync(path.join(generatorsDir, name, 'index.js')))
  : [];

const argv = process.argv.slice(2);
if (available.length === 0) {
  console.error('sci-eb: the generators are not built; run `npm run build` in the generator-sci-eb folder.');
  process.exit(2);
}
if (argv[0] === '--help' || argv[0] === '-h' || argv.length === 0 && !process.stdin.isTTY) {
  console.log(`Usage: sci-eb <generator> [arguments] [options]\n\nGenerators: ${available.join(', ')} (default: app)\n` +
    'Example: sci-eb app my-service --yes\nBring your own model: sci-eb model import PATH --sample CSV (inside a project)\nEach generator lists its options with: sci-eb <generator> --help');
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
const name = argv[0] && available.includes(argv[0]) ? argv.shift() : 'app';

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
