/**
 * Trust moved out of model/ (0.3.0): what may run when a model loads is read from trust.json in the project folder
 * (service/serving/trust.py), never from model/schema.json. A project made before kept it in schema.json, written by
 * its own train.py or import (`model.trustedTypes` for skops; a joblib project's pickle was loaded on the format's
 * word). Its upgrade records that once, with a note, so the model it serves keeps loading; after that only the
 * project's commands (train, import) write trust.json, and the generator never touches it again.
 */
import semver from 'semver';

export const TRUST_FILE = 'trust.json';
/** The first generator version whose projects keep trust in trust.json. */
export const TRUST_SINCE = '0.3.0';
const SHA256 = /^[0-9a-f]{64}$/;

export interface TrustMigration {
  content: string;
  note: string;
}

/**
 * trust.json for a project upgraded from `fromVersion`, from its model/schema.json text; undefined when there is
 * nothing to record (a project made since TRUST_SINCE, no model yet, a schema.json without trust in it).
 */
export function migratedTrust(
  schemaText: string | undefined,
  fromVersion: string | undefined,
  now = new Date(),
): TrustMigration | undefined {
  const from = semver.valid(fromVersion ?? '') ?? '0.0.0';
  if (!semver.lt(from, TRUST_SINCE) || schemaText === undefined) return undefined;
  let model: Record<string, unknown>;
  try {
    model = (JSON.parse(schemaText) as { model?: Record<string, unknown> }).model ?? {};
  } catch {
    return undefined; // the service says what is wrong with it; nothing to carry over
  }
  const by = `sci-eb upgrade from ${fromVersion ?? 'a project without a version'}: model/schema.json listed it, ${now.toISOString().replace(/\.\d+Z$/, 'Z')}`;
  const skopsTypes: Record<string, string> = {};
  const pickles: Record<string, string> = {};
  if (model.format === 'skops' && Array.isArray(model.trustedTypes))
    for (const type of model.trustedTypes) if (typeof type === 'string') skopsTypes[type] = by;
  const sha = String(model.sha256 ?? '').toLowerCase();
  if (model.format === 'joblib' && SHA256.test(sha)) pickles[sha] = by;
  const recorded = [
    ...Object.keys(sorted(skopsTypes)).map((t) => `skops type ${t}`),
    ...Object.keys(pickles).map((p) => `pickle ${p.slice(0, 12)} (model/${String(model.artifact ?? 'model.joblib')})`),
  ];
  if (recorded.length === 0) return undefined;
  const content = `${JSON.stringify({ trustVersion: 1, skopsTypes: sorted(skopsTypes), pickles: sorted(pickles) }, null, 2)}\n`;
  const note = [
    `${TRUST_FILE} records what loading the model may run; model/schema.json no longer decides it (a model folder`,
    'cannot vouch for itself). What your model/schema.json listed was recorded once, so the model you serve keeps',
    `loading: ${recorded.join(', ')}.`,
    `Review it and commit ${TRUST_FILE} with model/; \`make train\` and \`make import\` add to it from now on.`,
  ].join('\n');
  return { content, note };
}

const sorted = (entries: Record<string, string>) =>
  Object.fromEntries(Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
