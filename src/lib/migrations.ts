/**
 * Stored answers from older generator versions, migrated forward. Each migration runs when the project's stamped
 * version is below the migration's version, in order, so a project can skip any number of releases.
 */
import semver from 'semver';

export interface Migration {
  version: string;
  describe: string;
  migrate: (answers: Record<string, unknown>) => Record<string, unknown>;
}

export const MIGRATIONS: Migration[] = [
  {
    version: '0.1.0',
    describe: 'envType (LoadBalanced | SingleInstance) became environmentType (load-balanced | single-instance); workers added (default 2)',
    migrate: ({ envType, ...rest }) => ({
      ...rest,
      ...(envType !== undefined && rest.environmentType === undefined ? { environmentType: envType === 'SingleInstance' ? 'single-instance' : 'load-balanced' } : {}),
      ...(rest.workers === undefined ? { workers: 2 } : {}),
    }),
  },
];

export function migrateAnswers(answers: Record<string, unknown>, fromVersion: string | undefined, migrations = MIGRATIONS) {
  const from = semver.valid(fromVersion ?? '') ?? '0.0.0';
  const applied = migrations.filter((m) => semver.lt(from, m.version)).sort((x, y) => semver.compare(x.version, y.version));
  return { answers: applied.reduce((acc, m) => m.migrate(acc), answers), applied };
}

/** true when the project was made by a newer generator than this one: upgrading would go backwards. */
export const isNewer = (projectVersion: string | undefined, generatorVersion: string) =>
  Boolean(semver.valid(projectVersion ?? '') && semver.gt(projectVersion!, generatorVersion));
