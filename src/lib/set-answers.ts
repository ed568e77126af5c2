/**
 * `upgrade --set key=value`: changing stored answers. The values are parsed here and validated with every other
 * answer by ./answers; answers derived from a changed one follow it.
 */
import { ANSWER_DOCS, forgetUnusedCsv } from './answers.js';
import { UsageError } from './errors.js';
import { PLATFORMS, type PlatformId } from './platforms.js';

/** `--set key=value` (repeatable) -> answers; keys are answer names or their option names. */
export function parseSets(values: unknown): Record<string, unknown> {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  const byOption = new Map<string, string>(Object.entries(ANSWER_DOCS).map(([key, doc]) => [doc.option, key]));
  const out: Record<string, unknown> = {};
  for (const item of list.map(String)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${item}: expected key=value, e.g. --set platform=al2023`);
    const raw = item.slice(0, eq).trim();
    const key = raw in ANSWER_DOCS ? raw : byOption.get(raw);
    if (!key)
      throw new UsageError(`--set ${item}: ${raw} is not an answer (known: ${Object.keys(ANSWER_DOCS).join(', ')})`);
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/**
 * The answers with `sets` applied. Answers derived from others follow a change of what they derive from, unless set
 * too: a platform that does not offer the stored Python or architecture brings its default (and that architecture's
 * default instance type); a dataset other than csv drops the CSV and its target column (unless set too).
 */
export function followDerived(
  answers: Record<string, unknown>,
  sets: Record<string, unknown>,
): Record<string, unknown> {
  const next =
    sets.csvPath !== undefined || sets.targetColumn !== undefined
      ? { ...answers, ...sets }
      : forgetUnusedCsv({ ...answers, ...sets });
  const platform = PLATFORMS[next.platform as PlatformId];
  if (
    platform &&
    sets.platform !== undefined &&
    sets.pythonVersion === undefined &&
    !platform.pythonVersions.includes(String(next.pythonVersion))
  ) {
    next.pythonVersion = platform.defaultPython;
  }
  if (
    platform &&
    sets.platform !== undefined &&
    sets.architecture === undefined &&
    !platform.architectures.includes(next.architecture as 'x86_64')
  ) {
    next.architecture = platform.architectures[0];
    if (sets.instanceType === undefined) next.instanceType = platform.defaultInstanceType[platform.architectures[0]!];
  }
  return next;
}
