#!/usr/bin/env node
// `npm run test:service`: the unit tests of the service's Python (service/tests/unit), run by pytest from service/
// (its pyproject.toml holds the settings) in a venv of every library serving/ and tools/ import: the onnx project's
// development pins, exactly as a generated project installs them, plus the libraries a model may bring. The venv is the harness's shared one (.cache/venvs,
// keyed by the pins' content), so only the first run pays for pip; later runs take seconds. Extra arguments go to
// pytest (`npm run test:service -- -k validation`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, sharedVenv } from '../harness/venv.mjs';

/** The venv the service's unit tests run in (also used by test/ for the Python side of the fast tier). */
export function serviceVenv(log) {
  // libraries-al2023.txt: LightGBM, XGBoost and CatBoost, which the tests train real models with (conversion, import).
  const pins = ['al2023-onnx.txt', 'training-al2023-onnx.txt', 'dev-al2023.txt', 'libraries-al2023.txt'];
  return sharedVenv(
    'service',
    pins.map((f) => path.join(ROOT, 'templates', 'pins', f)),
    log,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const venv = serviceVenv();
  const r = spawnSync(path.join(venv, 'bin', 'python'), ['-m', 'pytest', ...process.argv.slice(2)], {
    cwd: path.join(ROOT, 'service'),
    stdio: 'inherit',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  process.exit(r.status ?? 1);
}
