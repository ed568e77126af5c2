// A generated project ready to serve, made the way a user makes one: the generator (and the gateway) built from this
// checkout, `sci-eb app` run with the given answers, the shared venv for its requirements-dev.txt, `make train`.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, runStep, sharedVenv } from './venv.mjs';

export { ROOT };
export const GATEWAY = path.join(ROOT, 'gateway');
export const LAUNCHER = path.join(ROOT, 'bin', 'sci-eb.js');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The generator and the gateway compiled from this checkout (installed first if this is a fresh clone). With
 * SCI_EB_PREBUILT=1 the caller has just done so and runs several harness users side by side
 * (test/measurements-smoke.test.ts): a second build would rewrite generators/ and gateway/dist/ while another run
 * imports from them.
 */
export function buildCheckout(log) {
  if (process.env.SCI_EB_PREBUILT === '1') {
    log('  generator and gateway: built by the caller (SCI_EB_PREBUILT=1)');
    return;
  }
  if (!existsSync(path.join(ROOT, 'node_modules', '.package-lock.json')))
    runStep(log, 'npm ci', npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT });
  runStep(log, 'npm run build', npm, ['run', 'build'], { cwd: ROOT });
  if (!existsSync(path.join(GATEWAY, 'node_modules', '.package-lock.json')))
    runStep(log, 'gateway: npm ci', npm, ['ci', '--no-audit', '--no-fund'], { cwd: GATEWAY });
  runStep(log, 'gateway: npm run build', npm, ['run', 'build'], { cwd: GATEWAY });
}

/**
 * The Procfile's web command, read as the project's own tools/procfile.py reads it (the one reader in Python; this is
 * the one in JavaScript): the command of the first `<process>: <command>` line whose process is `web` (spaces around
 * the name ignored) and whose command is not empty.
 */
function webCommand(dir) {
  for (const line of readFileSync(path.join(dir, 'Procfile'), 'utf8').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    const command = colon < 0 ? '' : line.slice(colon + 1).trim();
    if (colon >= 0 && line.slice(0, colon).trim() === 'web' && command) return command;
  }
  throw new Error(`${dir} has no web: line in its Procfile`);
}

/**
 * What the harness needs to know about a generated (and trained) project, read from the project itself: the
 * Procfile's web command and what it binds, and the model's schema.
 */
export function openProject(dir) {
  const web = webCommand(dir);
  const schemaPath = path.join(dir, 'model', 'schema.json');
  const schema = existsSync(schemaPath) ? JSON.parse(readFileSync(schemaPath, 'utf8')) : undefined;
  return {
    name: path.basename(dir),
    dir,
    web,
    workers: Number(/--workers\s+(\d+)/.exec(web)?.[1] ?? 1),
    port: Number(/--bind\s+[\d.]+:(\d+)/.exec(web)?.[1] ?? 8000),
    schemaPath,
    schema,
  };
}

/** The venv `make venv` would make for this project, shared by every project with the same requirements. */
export const projectVenv = (dir, log) => sharedVenv('app', [path.join(dir, 'requirements-dev.txt')], log);

/**
 * `sci-eb app <name> ...args --skip-install` in `parent` (emptied first when `fresh`), then its venv and `make
 * train`. Returns openProject's description plus the venv.
 */
export function prepareProject({
  parent,
  name,
  args = ['--yes'],
  log = (line) => process.stderr.write(`${line}\n`),
  fresh = false,
  train = true,
}) {
  if (fresh) rmSync(parent, { recursive: true, force: true });
  mkdirSync(parent, { recursive: true });
  runStep(
    log,
    `generate ${name} (${args.join(' ')})`,
    process.execPath,
    [LAUNCHER, 'app', name, ...args, '--skip-install'],
    { cwd: parent },
  );
  const dir = path.join(parent, name);
  const venv = projectVenv(dir, log);
  if (train)
    runStep(log, `make train (${name})`, 'make', ['--no-print-directory', `VENV=${venv}`, 'train'], { cwd: dir });
  return { ...openProject(dir), venv };
}
