import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../config.js';
import { loadModelSchema, type ModelSchema } from '../schema/load.js';
import { generateTypes } from '../schema/typegen.js';
import { clientPackageName, clientPackageVersion } from '../client-package-name.js';

// npm run client:pack: the typed client as an npm tarball a frontend installs (`npm install <path>.tgz`). Its types,
// SCHEMA and RULES are generated from schema.json at pack time (not taken from a committed file that could lag), its
// name is the project's and its version changes with the model (client-package-name.ts), so a frontend that installs
// the new tarball after a retrain gets the new types. Staged in a temporary folder (never in dist/, whose files go
// into the EB bundle), built into dist/client-package, packed into dist/. Prints the tarball's path on the last line
// of stdout.

export const CLIENT_PACKAGE_DIR = resolve(PACKAGE_ROOT, 'dist', 'client-package');
const SCHEMA_PATH = resolve(PACKAGE_ROOT, 'schema.json');

/** The README shipped in the package: client/README.md with the package's name, version and model filled in. */
function readme(schema: ModelSchema, name: string, version: string): string {
  const values: Record<string, string> = {
    name,
    version,
    model: schema.model.name,
    modelVersion: schema.model.version,
    maxRows: String(schema.limits.maxRows),
    features: schema.features.map((f) => `\`${f.name}\` (${f.type}${f.nullable ? ', nullable' : ''})`).join(', '),
  };
  return readFileSync(resolve(PACKAGE_ROOT, 'client', 'README.md'), 'utf8').replace(
    /\{\{(\w+)\}\}/g,
    (whole, key: string) => values[key] ?? whole,
  );
}

export function packClient(destination = resolve(PACKAGE_ROOT, 'dist'), schemaPath = SCHEMA_PATH): string {
  const schema = loadModelSchema(schemaPath);
  const name = clientPackageName(schema.model.name);
  const manifest = JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'client', 'package.json'), 'utf8')) as Record<
    string,
    unknown
  > & { version: string };
  const version = clientPackageVersion(manifest.version, schema.model.version);

  // The client's sources and the gateway's pure shared ones, in the same relative places, with fresh types.
  const stage = mkdtempSync(join(tmpdir(), 'client-build-'));
  try {
    for (const dir of ['client', 'src/shared']) {
      mkdirSync(resolve(stage, dir), { recursive: true });
      for (const file of readdirSync(resolve(PACKAGE_ROOT, dir)))
        if (file.endsWith('.ts') || file === 'tsconfig.json')
          copyFileSync(resolve(PACKAGE_ROOT, dir, file), resolve(stage, dir, file));
    }
    writeFileSync(resolve(stage, 'client', 'types.generated.ts'), generateTypes(schema));

    rmSync(CLIENT_PACKAGE_DIR, { recursive: true, force: true });
    mkdirSync(CLIENT_PACKAGE_DIR, { recursive: true });
    const tsc = resolve(PACKAGE_ROOT, 'node_modules', '.bin', 'tsc');
    const build = spawnSync(
      tsc,
      ['-p', resolve(stage, 'client', 'tsconfig.json'), '--outDir', resolve(CLIENT_PACKAGE_DIR, 'dist')],
      { encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`client build failed:\n${build.stdout}${build.stderr}`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  writeFileSync(
    resolve(CLIENT_PACKAGE_DIR, 'package.json'),
    `${JSON.stringify({ ...manifest, name, version, description: `${manifest['description']} (model ${schema.model.name} ${schema.model.version})` }, null, 2)}\n`,
  );
  writeFileSync(resolve(CLIENT_PACKAGE_DIR, 'README.md'), readme(schema, name, version));
  mkdirSync(destination, { recursive: true });
  const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: CLIENT_PACKAGE_DIR,
    encoding: 'utf8',
  });
  if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stdout}${pack.stderr}`);
  const packed = (JSON.parse(pack.stdout) as Array<{ filename: string }>)[0];
  if (!packed) throw new Error(`npm pack said nothing about a tarball:\n${pack.stdout}`);
  return resolve(destination, packed.filename);
}

const invokedDirectly =
  process.argv[1] && resolve(process.argv[1]) === resolve(PACKAGE_ROOT, 'dist', 'scripts', 'pack-client.js');
if (invokedDirectly) {
  try {
    process.stdout.write(
      `${packClient(process.argv[2] ? resolve(process.env['INIT_CWD'] ?? process.cwd(), process.argv[2]) : undefined)}\n`,
    );
  } catch (err) {
    process.stderr.write(`client:pack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
