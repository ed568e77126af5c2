#!/usr/bin/env node
// `node scripts/setup.mjs test|example`: what the README's two set-up commands (`npm run example`, `npm test`) need
// before they start. Installs the npm packages only when node_modules does not match the lockfiles (so the second
// command does not reinstall ~600 packages the first one just installed), and says exactly which programs are
// missing and how to install them, instead of a test failing minutes later.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Whether `dir/node_modules` holds exactly what `dir/package-lock.json` pins, read from the record npm itself keeps
 * of what it installed (node_modules/.package-lock.json). Optional packages (other platforms' binaries) may be absent.
 */
export function matchesLockfile(dir) {
  const hidden = path.join(dir, 'node_modules', '.package-lock.json');
  if (!existsSync(hidden)) return false;
  let lock;
  let installed;
  try {
    lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')).packages ?? {};
    installed = JSON.parse(readFileSync(hidden, 'utf8')).packages ?? {};
  } catch {
    return false;
  }
  for (const [key, meta] of Object.entries(lock)) {
    if (!key.startsWith('node_modules/')) continue;
    const got = installed[key];
    if (!got) {
      if (meta.optional || meta.devOptional) continue;
      return false;
    }
    if (got.version !== meta.version) return false;
  }
  return true;
}

const has = (command, args = ['--version']) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

/** Programs a command needs, each with why and how to install it; returns the missing ones. */
export function missingPrograms(purpose, checks = { has, exists: existsSync }) {
  const wanted = [
    {
      name: 'make',
      why: 'the generated projects are driven by their Makefile',
      install: 'sudo apt-get install -y make',
      ok: () => checks.has('make'),
    },
    {
      name: 'python3 (3.11 or newer, with venv)',
      why: 'the generated projects are Python',
      install: 'sudo apt-get install -y python3 python3-venv',
      ok: () => checks.has('python3', ['-c', 'import sys, venv, ensurepip; assert sys.version_info >= (3, 11)']),
    },
  ];
  if (purpose === 'test') {
    wanted.push(
      {
        name: 'redis-server',
        why: "the gateway's shared rate-limit store, tested against the real thing",
        install: 'sudo apt-get install -y redis-server',
        ok: () => checks.has('redis-server'),
      },
      {
        name: 'chromium (/usr/bin/chromium)',
        why: "the gateway's docs page, tested in a real browser",
        install: 'sudo apt-get install -y chromium',
        ok: () => checks.exists('/usr/bin/chromium'),
      },
    );
  }
  return wanted.filter((w) => !w.ok());
}

function main(purpose) {
  const command = purpose === 'test' ? 'npm test' : 'npm run example';
  const missing = missingPrograms(purpose);
  if (missing.length > 0) {
    const width = Math.max(...missing.map((m) => m.name.length));
    console.error(`${command} needs ${missing.length === 1 ? 'a program' : 'programs'} this machine does not have:`);
    for (const m of missing)
      console.error(`  ${m.name.padEnd(width)}  ${m.why}\n  ${' '.repeat(width)}  install: ${m.install}`);
    console.error(
      `Install ${missing.length === 1 ? 'it' : 'them'} (on Debian or Ubuntu as shown), then run ${command} again.`,
    );
    process.exit(1);
  }
  const run = (args, cwd = root) => {
    console.log(`$ npm ${args.join(' ')}`);
    const r = spawnSync('npm', args, { cwd, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  };
  // npm ci at the root also installs gateway/ (its prepare script); the gateway alone is reinstalled when only its
  // lockfile changed.
  if (!matchesLockfile(root)) run(['ci', '--no-audit', '--no-fund']);
  else if (!matchesLockfile(path.join(root, 'gateway'))) run(['--prefix', 'gateway', 'ci', '--no-audit', '--no-fund']);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const purpose = process.argv[2];
  if (purpose !== 'test' && purpose !== 'example') {
    console.error('usage: node scripts/setup.mjs test|example');
    process.exit(2);
  }
  main(purpose);
}
