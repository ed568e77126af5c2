/**
 * Command-line options as data: what each generator is for, the help text built from its declared options and the
 * answer records, and the options a user gave that no generator knows. Pure: the Yeoman glue in src/base feeds it.
 */
import { ANSWER_RECORDS, defaultTextOf } from './answers.js';
import { didYouMean } from './nearest.js';

export interface OptionSpec {
  name: string;
  alias?: string;
  type: unknown;
  description?: string;
  default?: unknown;
  hide?: boolean | string;
}
export interface ArgumentSpec {
  name: string;
  description?: string;
  required?: boolean;
  default?: unknown;
}

/** What each generator does, for `sci-eb --help` and the first lines of its own --help. */
export const GENERATOR_SUMMARIES: Record<string, { summary: string; args?: string; notes?: string[] }> = {
  app: {
    summary:
      'Create a Flask + scikit-learn project for AWS Elastic Beanstalk: asks its questions (or takes the answers as options), writes the project, creates .venv, installs and trains.',
    args: '[name]',
    notes: [
      'Without a terminal nothing is asked: the defaults are used for every answer not given, as with --yes.',
      'Run inside a generated project, it regenerates from the stored answers (as upgrade does).',
    ],
  },
  gateway: {
    summary:
      'Add the TypeScript prediction gateway to the generated project in this folder (or refresh it), then install it with make gateway.',
    notes: ['Run it inside a generated project.'],
  },
  upgrade: {
    summary:
      "Regenerate the project in this folder with this generator's templates, merging your edits (3-way); your own code is never touched.",
    notes: ['Run it inside a generated project (or with --adopt in a hand-made one).'],
  },
  requirements: {
    summary: 'Put a requirements.txt (e.g. pip freeze output) in build order: numpy before scipy before scikit-learn.',
    args: '[file]',
  },
};

/** Yeoman's own options that mean nothing here: accepted, not listed. */
const YEOMAN_UNUSED = new Set(['skip-cache', 'force-install', 'ask-answered']);

const takesValue = (spec: OptionSpec) => spec.type !== Boolean;

function defaultText(spec: OptionSpec): string | undefined {
  const record = ANSWER_RECORDS.find((r) => r.option === spec.name);
  if (record) return defaultTextOf(record);
  if (spec.type === Boolean) return undefined; // a flag's default is "not given"
  return spec.default === undefined || spec.default === '' ? undefined : String(spec.default);
}

/** The --help text of a generator: usage, what it does, its arguments and options with their defaults and meanings. */
export function formatHelp(generator: string, args: ArgumentSpec[], options: OptionSpec[]): string {
  const about = GENERATOR_SUMMARIES[generator];
  const argList = args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ');
  const yoName = generator === 'app' ? 'sci-eb' : `sci-eb:${generator}`;
  const lines = [
    `Usage: sci-eb ${generator}${argList ? ` ${argList}` : ''} [options]`,
    `   or: yo ${yoName}${argList ? ` ${argList}` : ''} [options]`,
    '',
    ...(about ? [about.summary, ''] : []),
  ];
  const rows: Array<[string, string]> = [];
  for (const a of args) {
    const record = ANSWER_RECORDS.find((r) => r.key === a.name);
    const dflt = record ? defaultTextOf(record) : a.default === undefined ? undefined : String(a.default);
    rows.push([`  ${a.name}`, `${a.description ?? record?.describe ?? ''}${dflt ? ` (default: ${dflt})` : ''}`]);
  }
  if (rows.length) lines.push('Arguments:', ...table(rows), '');
  const isAnswer = (o: OptionSpec) => ANSWER_RECORDS.some((r) => r.option === o.name);
  // Outside app an answer option changes a stored answer (or, with --adopt, fills one it cannot infer): one line,
  // not twenty with app's defaults.
  const answersInOneRow = generator !== 'app';
  const visible = options.filter((o) => !o.hide && !YEOMAN_UNUSED.has(o.name) && !(answersInOneRow && isAnswer(o)));
  // Answers in the order they are asked, then the generator's own options, then help.
  const rank = (o: OptionSpec) => {
    const i = ANSWER_RECORDS.findIndex((r) => r.option === o.name);
    return o.name === 'help' ? 1e6 : i >= 0 ? i : 1000;
  };
  const sorted = [...visible].sort((x, y) => rank(x) - rank(y));
  const optionRows: Array<[string, string]> = sorted.map((o) => {
    const dflt = defaultText(o);
    const flag = `${o.alias ? `-${o.alias}, ` : '    '}--${o.name}${takesValue(o) ? ' <value>' : ''}`;
    const description = o.name === 'help' ? 'Print this help and exit; nothing is written' : (o.description ?? '');
    return [`  ${flag}`, `${description}${dflt ? ` (default: ${dflt})` : ''}`];
  });
  if (answersInOneRow && options.some(isAnswer)) {
    optionRows.unshift([
      '      --<answer> <value>',
      'Change an answer as --set does (--workers 4 is --set workers=4); with --adopt, give one the project does not show. The answers and their options are listed by sci-eb app --help',
    ]);
  }
  if (optionRows.length) lines.push('Options:', ...table(optionRows), '');
  for (const note of about?.notes ?? []) lines.push(note);
  return `${lines.join('\n').trimEnd()}\n`;
}

function table(rows: Array<[string, string]>): string[] {
  const width = Math.min(38, Math.max(...rows.map(([left]) => left.length)) + 2);
  return rows.map(([left, right]) =>
    left.length + 2 > width ? `${left}\n${' '.repeat(width)}${right}` : `${left.padEnd(width)}${right}`,
  );
}

/**
 * Keys Yeoman itself puts among a generator's options, never the user's typing: the environment's (seen with yo and
 * the launcher), yeoman-test's (force, localConfigOnly), and two an environment may pass on.
 */
const INTERNAL_OPTIONS = new Set([
  'env',
  'resolved',
  'namespace',
  '_meta',
  'sharedData',
  'forwardErrorToEnvironment',
  'skipLocalCache',
  'force',
  'localConfigOnly',
  'skipCheckEnv',
  'destinationRoot',
]);

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The options the user typed that the generator does not declare. `argv` is what the launcher hands over unparsed;
 * `given` are options parsed beforehand (by yo, or a test), where Yeoman's own keys are ignored.
 */
export function unknownOptions(
  argv: readonly string[],
  given: Record<string, unknown>,
  declared: OptionSpec[],
): string[] {
  const known = new Set<string>();
  const booleans = new Set<string>();
  for (const o of declared) {
    for (const n of [o.name, camel(o.name), o.alias].filter(Boolean) as string[]) known.add(n);
    if (o.type === Boolean) booleans.add(o.name);
  }
  const isKnown = (name: string) => known.has(name) || (name.startsWith('no-') && booleans.has(name.slice(3)));
  const unknown: string[] = [];
  for (const token of argv) {
    if (token === '--') break;
    if (token.startsWith('--')) {
      const name = token.slice(2).split('=')[0]!;
      if (name && !isKnown(name)) unknown.push(`--${name}`);
    } else if (/^-[A-Za-z]/.test(token)) {
      for (const letter of token.slice(1).split('=')[0]!) if (!known.has(letter)) unknown.push(`-${letter}`);
    }
  }
  for (const key of Object.keys(given)) {
    if (INTERNAL_OPTIONS.has(key) || isKnown(key) || known.has(camel(key))) continue;
    const dashed = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (isKnown(dashed)) continue;
    unknown.push(key.length === 1 ? `-${key}` : `--${dashed}`);
  }
  return [...new Set(unknown)];
}

/** "unknown option --estimatr (did you mean --estimator?)", one line per option. */
export function unknownOptionsMessage(generator: string, unknown: string[], declared: OptionSpec[]): string {
  const names = declared.filter((o) => !o.hide && !YEOMAN_UNUSED.has(o.name)).map((o) => o.name);
  const lines = unknown.map(
    (u) => `  ${u}: not an option of sci-eb ${generator}${didYouMean(u.replace(/^-+/, ''), names, '--')}`,
  );
  return `Unknown option${unknown.length === 1 ? '' : 's'}; nothing was written:\n${lines.join('\n')}\nThe options are listed by: sci-eb ${generator} --help`;
}
