// The gateway's own test suite ships in every project with a gateway, and `make gateway-test` (so `make
// gateway-deploy`) type-checks it against that project's client types (client/types.generated.ts, made from its
// model). A test that reads a member only some models' answers have (a classifier's `classes`) compiles here, on the
// iris schema, and fails every regression project's deploy. So the suite is type-checked here against the types of
// every kind of model the fixtures hold.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

const GATEWAY = path.join(ROOT, 'gateway');
const FIXTURE_DIR = path.join(GATEWAY, 'test', 'fixtures');
const fixtures = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.schema.json'));

describe("the gateway's test suite compiles against every kind of model's client types", () => {
  it.each(fixtures)(
    '%s',
    async (fixture) => {
      const copy = mkdtempSync(path.join(os.tmpdir(), 'sci-eb-gw-types-'));
      cpSync(GATEWAY, copy, {
        recursive: true,
        filter: (src) => !/[/\\](node_modules|dist|\.elasticbeanstalk)$/.test(src),
      });
      symlinkSync(path.join(GATEWAY, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
      // What schema:sync writes into client/ for this model: the gateway's own code, from its sources (vitest compiles
      // them; a fresh clone has no gateway/dist yet at this tier).
      const { generateTypes } = await import(path.join(GATEWAY, 'src', 'schema', 'typegen.ts'));
      const { loadModelSchema } = await import(path.join(GATEWAY, 'src', 'schema', 'load.ts'));
      writeFileSync(
        path.join(copy, 'client', 'types.generated.ts'),
        generateTypes(loadModelSchema(path.join(FIXTURE_DIR, fixture))),
      );
      const tsc = spawnSync(
        process.execPath,
        [path.join(GATEWAY, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.test.json'],
        {
          cwd: copy,
          encoding: 'utf8',
        },
      );
      expect(tsc.status, `${tsc.stdout}${tsc.stderr}`).toBe(0);
    },
    120_000,
  );
});
