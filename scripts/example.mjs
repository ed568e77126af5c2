#!/usr/bin/env node
// `npm run example`: the main job on the reference example (the answers in this repository's .yo-rc.json).
// Generates the project into example/, installs and trains it (the generator's own install step), then runs its
// `make local` (the EB bundle built by awsebcli, unpacked in a fresh folder, installed and started with the Procfile's
// command, as EB would) and prints a real prediction from it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const exampleDir = path.join(root, 'example');
const { answers } = JSON.parse(readFileSync(path.join(root, '.yo-rc.json'), 'utf8'))['generator-sci-eb'];
const project = path.join(exampleDir, answers.name);

function step(title, command, args, cwd) {
  console.log(`\n== ${title}\n$ ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\nexample: "${title}" failed (exit ${r.status}).`);
    process.exit(1);
  }
}

rmSync(exampleDir, { recursive: true, force: true });
mkdirSync(exampleDir, { recursive: true });
step('Generate, install and train the reference example', process.execPath, [path.join(root, 'bin', 'sci-eb.js'), 'app', '--answers', path.join(root, '.yo-rc.json')], exampleDir);

console.log(`\n== Serve it as Elastic Beanstalk would\n$ make local   (in ${path.relative(root, project)})`);
const server = spawn('make', ['--no-print-directory', 'local'], { cwd: project, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
const stop = () => { try { process.kill(-server.pid, 'SIGTERM'); } catch { /* already gone */ } };
process.on('SIGINT', () => { stop(); process.exit(130); });

const base = 'http://127.0.0.1:8000';
const deadline = Date.now() + 600_000;
let healthy = false;
while (!healthy && Date.now() < deadline && server.exitCode === null) {
  try { healthy = (await fetch(`${base}${answers.healthCheckPath}`)).ok; } catch { /* starting */ }
  if (!healthy) await new Promise((r) => setTimeout(r, 500));
}
if (!healthy) {
  stop();
  console.error('\nexample: the service did not become healthy (is port 8000 taken?).');
  process.exit(1);
}

const schema = await (await fetch(`${base}/v1/schema`)).json();
// One row per class, from the middle and the ends of the observed ranges.
const rows = [0.15, 0.5, 0.9].map((q) => Object.fromEntries(schema.features.map((f) =>
  [f.name, f.type === 'category' ? f.categories[0] : +(f.observedMin + q * (f.observedMax - f.observedMin)).toFixed(2)])));
const response = await fetch(`${base}/v1/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
const body = await response.json();
console.log(`\n== A real prediction\nPOST ${base}/v1/predict\n${JSON.stringify({ instances: rows }, null, 2)}\n-> ${response.status}\n${JSON.stringify(body, null, 2)}`);
stop();
await new Promise((r) => server.once('exit', r));
console.log(`\nThe project is in ${path.relative(process.cwd(), project) || '.'}; its README takes it on to eb create and eb deploy.`);
process.exit(response.ok ? 0 : 1);
