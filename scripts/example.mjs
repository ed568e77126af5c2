#!/usr/bin/env node
// `npm run example`: the main job on the reference example (the answers in this repository's .yo-rc.json).
// Generates the project into example/, installs and trains it (the generator's own install step), then runs its
// `make local` (the EB bundle built by awsebcli, unpacked in a fresh folder, installed and started with the Procfile's
// command, as EB would) and prints a real prediction from it.
//
// Each step's full output goes to example/logs/; the terminal gets a few lines per step (what is happening, the
// bundle's size, the prediction), and the whole log's tail only when a step fails.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const exampleDir = path.join(root, 'example');
const logDir = path.join(exampleDir, 'logs');
const { answers } = JSON.parse(readFileSync(path.join(root, '.yo-rc.json'), 'utf8'))['generator-sci-eb'];
const project = path.join(exampleDir, answers.name);
const rel = (p) => path.relative(process.cwd(), p) || '.';
const say = (line) => console.log(line);

/** The lines of a step worth showing, by what they say; everything else stays in the step's log. */
const MILESTONES = {
  generate: [
    [/^▸ Create \.venv/, () => 'creating .venv and installing requirements-dev.txt (a minute or two)'],
    [/^▸ Train the model/, () => 'training'],
    [/^held-out score .*/, (m) => m[0]],
    [/^Done: /, () => undefined],
  ],
  local: [
    [/-m venv .*ebcli/, () => 'installing the EB CLI in .venv-ebcli'],
    [/tools\/bundle\.py/, () => 'building the source bundle with awsebcli (as eb deploy does)'],
    [/^bundle: .*/, (m) => m[0]],
    [/-m zipfile -e \S+ "?([^"]+)"?/, (m) => `unpacking it in ${m[1]}`],
    [/pip install .*requirements\.txt/, () => 'installing its requirements.txt in a fresh venv'],
    [/Listening at: (\S+)/, (m) => `gunicorn listening on ${m[1]}, started with the Procfile's command`],
  ],
};

/** Starts a step with its output in logs/<name>.log, printing its milestones as they happen. */
function startStep(name, title, command, args, cwd) {
  say(`\n== ${title}`);
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let pending = '';
  const lines = [];
  const onData = (chunk) => {
    log.write(chunk);
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop();
    for (const line of complete) {
      lines.push(line);
      for (const [pattern, label] of MILESTONES[name] ?? []) {
        const m = line.match(pattern);
        const text = m && label(m);
        if (text) say(`   ${text}`);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'close' comes when every process holding the output (gunicorn's workers too) has let go of it.
  const closed = new Promise((resolve) =>
    child.once('close', (code, signal) => {
      log.end();
      resolve({ code, signal });
    }),
  );
  return { child, lines, logFile, closed };
}

function fail(step, why) {
  console.error(`\nexample: ${why}. The last lines of ${rel(step.logFile)}:\n`);
  console.error(step.lines.slice(-25).join('\n'));
  process.exit(1);
}

const seconds = (since) => `${Math.round((Date.now() - since) / 1000)} s`;

rmSync(exampleDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });
say(`Full output of each step: ${rel(logDir)}/`);

let since = Date.now();
const generate = startStep(
  'generate',
  `Generate ${rel(project)} from .yo-rc.json, install and train (sci-eb app --answers .yo-rc.json)`,
  process.execPath,
  [path.join(root, 'bin', 'sci-eb.js'), 'app', '--answers', path.join(root, '.yo-rc.json')],
  exampleDir,
);
const generated = await generate.closed;
if (generated.code !== 0) fail(generate, `generating the project failed (exit ${generated.code})`);
say(
  `   ${generate.lines.filter((l) => /^\s+create\s/.test(l)).length} files written, .venv installed, model trained (${seconds(since)})`,
);

since = Date.now();
const local = startStep(
  'local',
  'Serve it as Elastic Beanstalk would (make local)',
  'make',
  ['--no-print-directory', 'local'],
  project,
);
process.on('SIGINT', () => {
  try {
    process.kill(-local.child.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
  process.exit(130);
});
const base = 'http://127.0.0.1:8000';
const deadline = Date.now() + 900_000;
let healthy = false;
let exited = false;
void local.closed.then(() => {
  exited = true;
});
while (!healthy && !exited && Date.now() < deadline) {
  try {
    healthy = (await fetch(`${base}${answers.healthCheckPath}`)).ok;
  } catch {
    /* starting */
  }
  if (!healthy) await new Promise((r) => setTimeout(r, 500));
}
if (!healthy) {
  await stopServer(local);
  fail(
    local,
    exited ? 'make local stopped before the service answered' : 'the service did not answer within 15 minutes',
  );
}
say(`   ${base}${answers.healthCheckPath} answers (${seconds(since)})`);

say('\n== A real prediction');
const schema = await (await fetch(`${base}/v1/schema`)).json();
// One row from the low, middle and high end of each feature's observed range.
const rows = [0.15, 0.5, 0.9].map((q) =>
  Object.fromEntries(
    schema.features.map((f) => [
      f.name,
      f.type === 'category' ? f.categories[0] : +(f.observedMin + q * (f.observedMax - f.observedMin)).toFixed(2),
    ]),
  ),
);
const response = await fetch(`${base}/v1/predict`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ instances: rows }),
});
const body = await response.json();
say(`   POST ${base}/v1/predict  {"instances": [...${rows.length} rows]}  ->  ${response.status}`);
for (const [i, row] of rows.entries()) {
  const p = body.probabilities?.[i];
  const confidence = p ? `  (p=${Math.max(...p).toFixed(2)})` : '';
  say(`   ${JSON.stringify(row)}  ->  ${JSON.stringify(body.predictions?.[i])}${confidence}`);
}
if (!response.ok) say(`   ${JSON.stringify(body)}`);

const stopped = await stopServer(local);
say(
  `\nStopped the service${stopped ? '' : ' (it had to be killed)'}. The project is in ${rel(project)}; its README takes it on to eb create and eb deploy.`,
);
process.exit(response.ok ? 0 : 1);

/**
 * Stops `make local` the way Ctrl-C on gunicorn would: SIGTERM to gunicorn's master only, so it shuts its workers
 * down and exits 0, make finishes without "*** Terminated", and every shutdown line is written before we go on.
 */
async function stopServer(step) {
  // The first process running gunicorn itself (python .../bin/gunicorn), not the shell whose command line names it
  const master = descendants(step.child.pid).find((pid) =>
    cmdline(pid)
      .slice(0, 2)
      .some((arg) => path.basename(arg) === 'gunicorn'),
  );
  try {
    process.kill(master ?? -step.child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const timeout = new Promise((r) => setTimeout(() => r(undefined), 30_000));
  const result = await Promise.race([step.closed, timeout]);
  if (result === undefined) {
    try {
      process.kill(-step.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await step.closed;
    return false;
  }
  return master === undefined || result.code === 0;
}

/** Processes below pid, parents before children (Linux /proc; elsewhere none, and the group is signalled). */
function descendants(pid) {
  let parents;
  try {
    parents = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return [
            Number(d),
            Number(
              readFileSync(`/proc/${d}/stat`, 'utf8')
                .replace(/^.*\) /s, '')
                .split(' ')[1],
            ),
          ];
        } catch {
          return [Number(d), -1];
        }
      });
  } catch {
    return [];
  }
  const out = [];
  const queue = [pid];
  while (queue.length) {
    const current = queue.shift();
    for (const [child, parent] of parents)
      if (parent === current) {
        out.push(child);
        queue.push(child);
      }
  }
  return out;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
