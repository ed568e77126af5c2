/**
 * answers -> plan -> files. A template set (templates/files.json plus its templates and pins) says declaratively
 * which files a project has; `planProject` picks the ones the answers call for, `renderPlan` renders them. The app
 * generator, upgrade (which renders the same way with the new template set), dry runs, the tests and the `sci-eb`
 * launcher all go through these functions.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { featureTypePairs, type Answers } from './answers.js';
import { GATEWAY_NODE_BRANCH, PLATFORMS } from './platforms.js';
import { CANARY, DEPLOY_TIMEOUT_SECONDS } from './deployment.js';
import { BUILDERS, LIMITS, MANAGED_HEADER, gatewayEnvName, procfileCommand } from './ebconfig.js';
import { CONDITIONS, TEMPLATES_DIR, loadFileSpecs, type FileKind, type FileSpec } from './file-specs.js';
import { orderRequirements } from './requirements.js';
import { UsageError } from './errors.js';

export type PlannedFile = Omit<FileSpec, 'when'>;

export interface RenderedFile {
  path: string;
  kind: FileKind;
  content: Buffer;
  executable: boolean;
  group?: string;
}

/** Values a files.json path or copy source may name in braces. */
function placeholders(a: Answers): Record<string, string> {
  // The onnx runtime serves without scikit-learn: its own pins (the training tools go to requirements-dev.txt).
  return {
    platform: a.platform,
    servingPins: a.runtime === 'onnx' ? `${a.platform}-onnx` : a.platform,
    csvPath: a.csvPath ?? '',
    csvBasename: a.csvPath ? path.basename(a.csvPath) : '',
  };
}

const fill = (text: string, values: Record<string, string>) =>
  text.replace(/\{(\w+)\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`files.json names an unknown placeholder {${key}}`);
    return values[key]!;
  });

/** Pure: the files these answers call for, with placeholders filled, sorted by path. */
export function planProject(a: Answers, specs: FileSpec[] = loadFileSpecs()): PlannedFile[] {
  const values = placeholders(a);
  return specs
    .filter((spec) => !spec.when || CONDITIONS[spec.when](a))
    .map(({ when: _when, ...spec }) => ({
      ...spec,
      path: fill(spec.path, values),
      ...(spec.copy ? { copy: fill(spec.copy, values) } : {}),
      ...(spec.requirements ? { requirements: spec.requirements.map((r) => fill(r, values)) } : {}),
    }))
    .sort((x, y) => x.path.localeCompare(y.path));
}

/** Where the user's CSV lands inside the project (kept out of the EB bundle by .ebignore). */
export function projectCsvPath(a: Answers): string | undefined {
  return a.dataset === 'csv' && a.csvPath ? `data/${path.basename(a.csvPath)}` : undefined;
}

export function templateData(a: Answers, generatorVersion: string) {
  const platform = PLATFORMS[a.platform];
  return {
    ...a,
    modelName: a.name,
    csvPath: projectCsvPath(a) ?? '',
    targetColumn: a.targetColumn ?? '',
    // train.py's FEATURE_TYPES, a Python dict literal as ruff formats it
    featureTypesPython: `{${featureTypePairs(a.featureTypes)
      .map(([name, kind]) => `${JSON.stringify(name)}: ${JSON.stringify(kind)}`)
      .join(', ')}}`,
    platformInfo: { ...platform, branch: platform.branchName(a.pythonVersion) },
    procfileCommand: platform.server === 'gunicorn' ? procfileCommand(a) : '',
    pythonCommand: `python${a.pythonVersion}`,
    maxRows: LIMITS.maxRows,
    maxBodyBytes: LIMITS.maxBodyBytes,
    generatorVersion,
    managedHeader: MANAGED_HEADER,
    gatewayEnvName: gatewayEnvName(a),
    gatewayNodeBranch: GATEWAY_NODE_BRANCH.branchName,
    canary: CANARY,
    deployTimeoutSeconds: DEPLOY_TIMEOUT_SECONDS,
  };
}

export interface RenderOptions {
  templatesDir?: string;
  generatorVersion: string;
  /** Where relative `copy` sources (the user's CSV) are read from. */
  cwd?: string;
  /**
   * The project being regenerated (an upgrade, sci-eb gateway, a re-run): a `copy` the project already holds (its
   * data/ CSV) is read from there, since the file it was copied from may be long gone (or changed since).
   */
  projectRoot?: string;
}

/**
 * EJS's `<%=` escapes for HTML, and nothing generated here is HTML: Markdown, YAML, Python and Makefiles show `&#34;`
 * literally. Values are written as they are; what each file format needs is quoted where it is built (YAML by the
 * yaml package, answers validated to safe characters).
 */
const asIs = (value: unknown) => (value === undefined || value === null ? '' : String(value));

const OPEN = '<!-- repository only -->';
const CLOSE = '<!-- /repository only -->';
const THIS_LINE = '<!-- repository only: this line -->';

/**
 * A Markdown page copied into projects (the gateway's README) as the project has it: what describes only the
 * generator's repository (a test file projects do not get, the benchmarks and the browser they need) is marked there
 * and left out here. `<!-- repository only -->` ... `<!-- /repository only -->` goes, whole lines when the markers
 * stand alone on theirs; a line holding `<!-- repository only: this line -->` (a table row) goes whole.
 */
export function withoutRepositoryOnly(text: string, source = 'the page'): string {
  const kept = text
    .split('\n')
    .filter((line) => !line.includes(THIS_LINE))
    .join('\n')
    // Between blank lines, one of them goes too.
    .replace(/^\n<!-- repository only -->\n[\s\S]*?^<!-- \/repository only -->\n(?=\n)/gm, '')
    .replace(/^<!-- repository only -->\n[\s\S]*?^<!-- \/repository only -->\n/gm, '')
    .replace(/<!-- repository only -->[\s\S]*?<!-- \/repository only -->/g, '');
  if (kept.includes(OPEN) || kept.includes(CLOSE))
    throw new Error(`${source}: a "${OPEN}" without its "${CLOSE}", or the other way round`);
  return kept;
}

function readCopy(file: PlannedFile, options: RenderOptions): Buffer {
  const kept = options.projectRoot === undefined ? undefined : path.join(options.projectRoot, file.path);
  const source = path.resolve(options.cwd ?? process.cwd(), file.copy!);
  for (const candidate of [kept, source]) if (candidate && existsSync(candidate)) return readFileSync(candidate);
  throw new UsageError(
    kept
      ? `${file.path} is missing, and so is ${file.copy}, which it was copied from: put the file back at ${file.path} (or run again with --csv naming it). Nothing was written.`
      : `${file.copy} does not exist (looked in ${options.cwd ?? process.cwd()}). Nothing was written.`,
  );
}

export function renderPlan(a: Answers, plan: PlannedFile[], options: RenderOptions): RenderedFile[] {
  const templatesDir = options.templatesDir ?? TEMPLATES_DIR;
  const data = templateData(a, options.generatorVersion);
  return plan.map((file) => {
    let content: Buffer;
    if (file.template) {
      const filename = path.join(templatesDir, file.template);
      content = Buffer.from(ejs.render(readFileSync(filename, 'utf8'), data, { filename, escape: asIs }));
    } else if (file.build) {
      content = Buffer.from(BUILDERS[file.build](a));
    } else if (file.requirements) {
      const pins = file.requirements.map((f) => readFileSync(path.join(templatesDir, 'pins', f), 'utf8')).join('');
      const header = `# ${MANAGED_HEADER}\n# Pinned to versions with binary wheels for ${PLATFORMS[a.platform].branchName(a.pythonVersion)} (${a.architecture}),\n# ${a.runtime === 'onnx' ? 'what the onnx runtime serves with: the training tools are in requirements-dev.txt' : 'ordered so build dependencies come first (numpy, then scipy, then scikit-learn)'}.\n\n`;
      content = Buffer.from(orderRequirements(header + pins).text);
    } else if (file.file) {
      content = readFileSync(path.join(templatesDir, file.file));
      if (file.path.endsWith('.md')) content = Buffer.from(withoutRepositoryOnly(content.toString('utf8'), file.file));
    } else if (file.copy) {
      content = readCopy(file, options);
    } else {
      throw new Error(`files.json entry ${file.path} has no source`);
    }
    return {
      path: file.path,
      kind: file.kind,
      content,
      executable: file.executable ?? false,
      ...(file.group ? { group: file.group } : {}),
    };
  });
}
