/**
 * Stored answers from older generator versions, migrated forward. Each migration runs when the project's stamped
 * version is below the migration's version, in order, so a project can skip any number of releases.
 */
import semver from 'semver';

export interface Migration {
  version: string;
  describe: string;
  migrate: (answers: Record<string, unknown>) => Record<string, unknown>;
  /** What to tell the user about a scaffold file of theirs that this version would have replaced, had it been unedited. */
  keptFileNotes?: Record<string, string>;
}

export const MIGRATIONS: Migration[] = [
  {
    version: '0.1.0',
    describe:
      'envType (LoadBalanced | SingleInstance) became environmentType (load-balanced | single-instance); workers added (default 2)',
    migrate: ({ envType, ...rest }) => ({
      ...rest,
      ...(envType !== undefined && rest.environmentType === undefined
        ? { environmentType: envType === 'SingleInstance' ? 'single-instance' : 'load-balanced' }
        : {}),
      ...(rest.workers === undefined ? { workers: 2 } : {}),
    }),
  },
  {
    version: '0.2.0',
    describe:
      'the service core moved from application.py into the managed serving/ package, its contract tests into tests/contract/; modelFormat joblib kept (new projects write skops)',
    // The 0.1 service in application.py (kept when edited) loads model.joblib itself, so its train.py must keep writing
    // joblib. A 0.2 project without the answer gets the default (skops): serving/ loads whichever schema.json records.
    migrate: (answers) => (answers.modelFormat === undefined ? { ...answers, modelFormat: 'joblib' } : answers),
    keptFileNotes: {
      'application.py': [
        'application.py holds your edits, so it was kept byte for byte, and it still serves the project on its own.',
        'The service core now lives in serving/ (added, managed: upgrades keep it current) and its contract tests in tests/contract/.',
        'To switch: move your changes into create_app\'s hooks or routes (README.md of a new project, "Customising the service"), then make application.py',
        '      from serving import create_app',
        '      application = create_app()',
        '    and delete tests/test_app.py (it tests the old application.py; tests/contract/ covers the contract now).',
      ].join('\n'),
    },
  },
  {
    version: '0.3.0',
    describe:
      'the build-time code (schema derivation, ONNX conversion) moved from serving/ into the managed tools/ package, which stays out of the EB bundle; the answers are unchanged',
    migrate: (answers) => answers,
    keptFileNotes: {
      'train.py': [
        'train.py holds your edits, so it was kept byte for byte, and it still trains: serving.schema_derivation moved to tools.schema_derivation,',
        '    and serving/ answers the old name with the new module. When convenient, change its import to',
        '      from tools.schema_derivation import DerivationError, describe_features, utc_now, write_model_folder',
      ].join('\n'),
    },
  },
];

export function migrateAnswers(
  answers: Record<string, unknown>,
  fromVersion: string | undefined,
  migrations = MIGRATIONS,
) {
  const from = semver.valid(fromVersion ?? '') ?? '0.0.0';
  const applied = migrations
    .filter((m) => semver.lt(from, m.version))
    .sort((x, y) => semver.compare(x.version, y.version));
  return { answers: applied.reduce((acc, m) => m.migrate(acc), answers), applied };
}

/** true when the project was made by a newer generator than this one: upgrading would go backwards. */
export const isNewer = (projectVersion: string | undefined, generatorVersion: string) =>
  Boolean(semver.valid(projectVersion ?? '') && semver.gt(projectVersion!, generatorVersion));
