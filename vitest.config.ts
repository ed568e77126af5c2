import { defineConfig } from 'vitest/config';

// Tests in tiers, fastest first, so `npm test` fails early and a developer can run the tier they need:
//   unit       pure logic: answers -> plan -> files, merges, options, EB facts; no process spawned, no network
//   generator  the generators run for real (Yeoman, the launcher, upgrades of fixture projects, ruff on rendered
//              projects, pins against PyPI)
//   e2e        everything else: generated projects installed, trained, served and bundled for real, the gateway in
//              front of them, the example, the bench and reliability smoke runs. A new test file lands here unless it
//              is listed above, so no test is ever left out of `npm test`.
const UNIT = [
  'test/answers.test.ts',
  'test/deploy-config.test.ts',
  'test/dir-lock.test.ts',
  'test/file-specs.test.ts',
  'test/import-graph.test.ts',
  'test/merge-bases.test.ts',
  'test/model-import.test.ts',
  'test/options.test.ts',
  'test/plan-changes.test.ts',
  'test/requirements.test.ts',
  'test/set-answers.test.ts',
  'test/trust-migration.test.ts',
];
const GENERATOR = [
  'test/app.test.ts',
  'test/gateway-suite-types.test.ts',
  'test/launcher.test.ts',
  'test/pins.test.ts',
  'test/python-lint.test.ts',
  'test/relock.test.ts',
  'test/setup.test.ts',
  'test/upgrade.test.ts',
];

export default defineConfig({
  test: {
    // Generator runs and the end-to-end suite spawn pip, gunicorn and awsebcli: real work, real time.
    testTimeout: 120_000,
    hookTimeout: 900_000,
    pool: 'forks',
    setupFiles: ['test/private-tmpdir.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'generator', include: GENERATOR } },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...GENERATOR] } },
    ],
  },
});
