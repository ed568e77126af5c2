import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../config.js';
import { buildOpenApi } from '../openapi.js';
import { loadModelSchema, SchemaFileError } from '../schema/load.js';
import { generateTypes } from '../schema/typegen.js';
import { buildValidators } from '../schema/validators.js';

// npm run schema:sync -- [path to model/schema.json]: copy the project's schema next to the gateway (so the gateway
// deploys alone) and regenerate everything derived from it. Relative paths are taken from where npm was run.

export const GENERATED = {
  schema: resolve(PACKAGE_ROOT, 'schema.json'),
  openapi: resolve(PACKAGE_ROOT, 'src', 'generated', 'openapi.json'),
  clientTypes: resolve(PACKAGE_ROOT, 'client', 'types.generated.ts'),
};

export function syncSchema(source: string): string[] {
  const schema = loadModelSchema(source);
  if (resolve(source) !== GENERATED.schema) copyFileSync(source, GENERATED.schema);
  const types = generateTypes(schema);
  const openapi = `${JSON.stringify(buildOpenApi(buildValidators(schema)), null, 2)}\n`;
  mkdirSync(resolve(PACKAGE_ROOT, 'src', 'generated'), { recursive: true });
  const written: string[] = [];
  for (const [path, text] of [
    [GENERATED.clientTypes, types],
    [GENERATED.openapi, openapi],
  ] as const) {
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== text) {
      writeFileSync(path, text);
      written.push(path);
    }
  }
  return written;
}

const invokedDirectly =
  process.argv[1] && resolve(process.argv[1]) === resolve(PACKAGE_ROOT, 'dist', 'scripts', 'schema-sync.js');
if (invokedDirectly) {
  const source = resolve(process.env['INIT_CWD'] ?? process.cwd(), process.argv[2] ?? '../model/schema.json');
  try {
    const written = syncSchema(source);
    const schema = loadModelSchema(GENERATED.schema);
    process.stdout.write(
      `schema.json: model ${schema.model.name} ${schema.model.version}, ${schema.features.length} features\n` +
        (written.length
          ? written.map((w) => `  wrote ${w}\n`).join('')
          : '  generated files were already up to date\n') +
        (written.includes(GENERATED.clientTypes)
          ? '  the client package has new types: npm run client:pack (make gateway-client) makes a tarball with a new version; frontends npm install that new file\n'
          : ''),
    );
  } catch (err) {
    process.stderr.write(`schema:sync: ${err instanceof SchemaFileError ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
