/**
 * The generator's answers: one zod schema validates them as a whole before anything is written, and every problem
 * is reported at once, phrased as what to change (naming the CLI option that sets it).
 */
import { z } from 'zod';
import {
  ARCHITECTURES, EB_REGIONS, INSTANCE_TYPE_PATTERN, PLATFORMS, PLATFORM_IDS, SCALING_METRICS,
  instanceArchitecture, type PlatformId,
} from './platforms.js';

export const TASKS = ['classification', 'regression'] as const;
export const ESTIMATORS = {
  classification: ['logistic_regression', 'random_forest', 'gradient_boosting'],
  regression: ['ridge', 'random_forest', 'gradient_boosting'],
} as const;
export const ALL_ESTIMATORS = ['logistic_regression', 'random_forest', 'gradient_boosting', 'ridge'] as const;
/** Datasets bundled with scikit-learn, and the task each one is for; `csv` is the user's own file. */
export const BUNDLED_DATASETS = { iris: 'classification', wine: 'classification', breast_cancer: 'classification', diabetes: 'regression' } as const;
export const DATASETS = ['iris', 'wine', 'breast_cancer', 'diabetes', 'csv'] as const;
export const ENVIRONMENT_TYPES = ['load-balanced', 'single-instance'] as const;
/** How the model file is written: skops (no code runs when it loads) or joblib (a pickle; the legacy Python 3.6 has no skops). */
export const MODEL_FORMATS = ['skops', 'joblib'] as const;

const PROJECT_NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;
// EB: "4 to 40 characters ... only letters, numbers, and hyphens ... can't start or end with a hyphen".
const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]$/;
const HEALTH_PATH = /^\/[A-Za-z0-9._~\/-]*$/;

/** Every answer, its CLI option and what it means: prompts, --help and error messages all read this table. */
export const ANSWER_DOCS = {
  name: { option: 'name', describe: 'Project folder and model name (lowercase letters, digits, hyphens)' },
  appName: { option: 'app-name', describe: 'Elastic Beanstalk application name' },
  envName: { option: 'env-name', describe: 'Elastic Beanstalk environment name' },
  region: { option: 'region', describe: 'AWS region' },
  platform: { option: 'platform', describe: `EB platform: ${PLATFORM_IDS.join(' or ')}` },
  pythonVersion: { option: 'python-version', describe: 'Python version of the EB platform branch' },
  architecture: { option: 'architecture', describe: 'CPU architecture: x86_64 or arm64 (Graviton)' },
  instanceType: { option: 'instance-type', describe: 'EC2 instance type' },
  environmentType: { option: 'environment-type', describe: 'load-balanced (auto scaling) or single-instance' },
  minInstances: { option: 'min-instances', describe: 'Minimum instances (load-balanced)' },
  maxInstances: { option: 'max-instances', describe: 'Maximum instances (load-balanced)' },
  scalingMetric: { option: 'scaling-metric', describe: `Auto scaling trigger metric: ${Object.keys(SCALING_METRICS).join(', ')}` },
  scaleUpThreshold: { option: 'scale-up-threshold', describe: 'Add an instance above this metric value' },
  scaleDownThreshold: { option: 'scale-down-threshold', describe: 'Remove an instance below this metric value' },
  task: { option: 'task', describe: 'classification or regression' },
  estimator: { option: 'estimator', describe: 'scikit-learn estimator' },
  dataset: { option: 'dataset', describe: `Training data: ${DATASETS.join(', ')}` },
  csvPath: { option: 'csv', describe: 'Path of your CSV file (dataset csv)' },
  targetColumn: { option: 'target', describe: 'Target column of the CSV (dataset csv)' },
  gateway: { option: 'gateway', describe: 'Include the TypeScript prediction gateway' },
  healthCheckPath: { option: 'health-check-path', describe: 'Health check path' },
  workers: { option: 'workers', describe: 'gunicorn worker processes per instance' },
  modelFormat: { option: 'model-format', describe: 'Model file format: skops (loads without running code; default) or joblib (a pickle)' },
} as const;
export type AnswerKey = keyof typeof ANSWER_DOCS;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const AnswersObject = z.object({
    name: z.string().min(2).max(40).regex(PROJECT_NAME, 'must be 2 to 40 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen'),
    appName: z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters (EB limit)')
      .refine((s) => !s.includes('/'), 'must not contain "/" (EB application names cannot)')
      .refine((s) => s.trim() === s, 'must not start or end with spaces'),
    envName: z.string().regex(ENV_NAME, 'must be 4 to 40 letters, digits or hyphens, not starting or ending with a hyphen (EB environment naming rule)'),
    region: z.enum(EB_REGIONS, { error: () => `must be an AWS region where EB runs, e.g. us-east-1, eu-west-1 (known: ${EB_REGIONS.join(', ')})` }),
    platform: z.enum(PLATFORM_IDS, { error: () => `must be one of: ${PLATFORM_IDS.join(', ')}` }),
    pythonVersion: z.string(),
    architecture: z.enum(ARCHITECTURES, { error: () => 'must be x86_64 or arm64' }),
    instanceType: z.string().regex(INSTANCE_TYPE_PATTERN, 'must be an EC2 instance type such as t3.small or t4g.medium'),
    environmentType: z.enum(ENVIRONMENT_TYPES, { error: () => 'must be load-balanced or single-instance' }),
    minInstances: int(1, 100),
    maxInstances: int(1, 100),
    scalingMetric: z.enum(Object.keys(SCALING_METRICS) as [keyof typeof SCALING_METRICS], { error: () => `must be one of: ${Object.keys(SCALING_METRICS).join(', ')}` }),
    scaleUpThreshold: z.number().positive(),
    scaleDownThreshold: z.number().nonnegative(),
    task: z.enum(TASKS, { error: () => 'must be classification or regression' }),
    estimator: z.enum(ALL_ESTIMATORS, { error: () => `must be one of: ${ALL_ESTIMATORS.join(', ')}` }),
    dataset: z.enum(DATASETS, { error: () => `must be one of: ${DATASETS.join(', ')}` }),
    csvPath: z.string().optional(),
    targetColumn: z.string().optional(),
    gateway: z.boolean(),
    healthCheckPath: z.string().regex(HEALTH_PATH, 'must be a path starting with "/", e.g. /health')
      .refine((p) => !p.startsWith('/v1/'), 'must not be under /v1/, which the prediction API owns'),
    workers: int(1, 32),
    modelFormat: z.enum(MODEL_FORMATS, { error: () => `must be one of: ${MODEL_FORMATS.join(', ')}` }),
});

/**
 * Rules between answers. They run on every answer that is individually valid, even when others are not, so one run
 * reports every problem (a zod refinement would be skipped as soon as any single field failed).
 */
function crossFieldProblems(a: Record<string, unknown>, fieldOk: (key: AnswerKey) => boolean): Array<{ key: AnswerKey; message: string }> {
  const out: Array<{ key: AnswerKey; message: string }> = [];
  const ok = (...keys: AnswerKey[]) => keys.every(fieldOk);
  const problem = (key: AnswerKey, message: string) => out.push({ key, message });
  const platform = ok('platform') ? PLATFORMS[a.platform as PlatformId] : undefined;
  if (platform && ok('pythonVersion') && !platform.pythonVersions.includes(a.pythonVersion as string)) {
    problem('pythonVersion', `must be one of ${platform.pythonVersions.join(', ')} on the ${platform.id} platform`);
  }
  if (platform && ok('architecture') && !platform.architectures.includes(a.architecture as 'x86_64')) {
    problem('architecture', `${a.architecture} is not available on the ${platform.id} platform (use ${platform.architectures.join(' or ')})`);
  }
  if (ok('instanceType', 'architecture') && instanceArchitecture(a.instanceType as string) !== a.architecture) {
    const hint = a.architecture === 'arm64' ? 'a Graviton type such as t4g.small' : 'an x86_64 type such as t3.small';
    problem('instanceType', `${a.instanceType} is an ${instanceArchitecture(a.instanceType as string)} instance type but the architecture is ${a.architecture}: choose ${hint}, or change --architecture`);
  }
  if (ok('minInstances', 'maxInstances') && (a.minInstances as number) > (a.maxInstances as number)) problem('maxInstances', `must be at least --min-instances (${a.minInstances})`);
  if (ok('scaleUpThreshold', 'scaleDownThreshold') && (a.scaleDownThreshold as number) >= (a.scaleUpThreshold as number)) problem('scaleDownThreshold', `must be below --scale-up-threshold (${a.scaleUpThreshold})`);
  if (ok('scalingMetric', 'scaleUpThreshold') && a.scalingMetric === 'CPUUtilization' && (a.scaleUpThreshold as number) > 100) problem('scaleUpThreshold', 'is a CPU percentage: at most 100');
  if (ok('task', 'estimator') && !(ESTIMATORS[a.task as 'regression'] as readonly string[]).includes(a.estimator as string)) {
    problem('estimator', `${a.estimator} is not a ${a.task} estimator: use one of ${ESTIMATORS[a.task as 'regression'].join(', ')}`);
  }
  if (ok('dataset') && a.dataset === 'csv') {
    if (!a.csvPath) problem('csvPath', 'is required when the dataset is csv: give the path of your CSV file');
    else if (ok('csvPath') && !(a.csvPath as string).toLowerCase().endsWith('.csv')) problem('csvPath', 'must name a .csv file');
    if (!a.targetColumn) problem('targetColumn', 'is required when the dataset is csv: name the column to predict');
  } else if (ok('dataset', 'task') && BUNDLED_DATASETS[a.dataset as 'iris'] !== a.task) {
    problem('dataset', `${a.dataset} is a ${BUNDLED_DATASETS[a.dataset as 'iris']} dataset, but the task is ${a.task}`);
  }
  if (platform && ok('modelFormat') && a.modelFormat === 'skops' && platform.id === 'amazon-linux-ami') {
    problem('modelFormat', 'skops needs Python 3.9 or later and the legacy platform runs Python 3.6: use joblib there, or the al2023 platform');
  }
  return out;
}

export const AnswersSchema = AnswersObject;

export type Answers = z.infer<typeof AnswersSchema>;

/** One answer on its own (for a prompt's validate): true, or the message saying what to fix. */
export function validateAnswer(key: AnswerKey, value: unknown): true | string {
  const coerced = coerceAnswers({ [key]: value })[key];
  const result = AnswersObject.shape[key].safeParse(coerced);
  return result.success ? true : result.error.issues.map((i) => i.message).join('; ');
}
export type RawAnswers = Partial<Record<AnswerKey, unknown>>;

/** Defaults, some derived from answers already given (the Python version from the platform, and so on). */
export function defaultAnswers(given: RawAnswers): Answers {
  const name = typeof given.name === 'string' && given.name ? given.name : 'sci-eb-model';
  const platformId = (PLATFORM_IDS as readonly unknown[]).includes(given.platform) ? (given.platform as PlatformId) : 'al2023';
  const platform = PLATFORMS[platformId];
  const architecture = (ARCHITECTURES as readonly unknown[]).includes(given.architecture) ? (given.architecture as 'x86_64' | 'arm64') : 'x86_64';
  const task = given.task === 'regression' || given.dataset === 'diabetes' ? 'regression' : 'classification';
  return {
    name,
    appName: name,
    envName: `${name}-env`.slice(0, 40).replace(/-+$/, ''),
    region: 'us-east-1',
    platform: platformId,
    pythonVersion: platform.defaultPython,
    architecture,
    instanceType: platform.defaultInstanceType[architecture] ?? platform.defaultInstanceType.x86_64!,
    environmentType: 'load-balanced',
    minInstances: 1,
    maxInstances: 4,
    scalingMetric: 'CPUUtilization',
    scaleUpThreshold: 70,
    scaleDownThreshold: 30,
    task,
    estimator: 'random_forest',
    dataset: task === 'regression' ? 'diabetes' : 'iris',
    gateway: false,
    healthCheckPath: '/health',
    workers: 2,
    modelFormat: platformId === 'amazon-linux-ami' ? 'joblib' : 'skops',
  };
}

/** Strings from the command line or a prompt become the types the schema expects; unknown keys are kept for the error. */
export function coerceAnswers(raw: Record<string, unknown>): RawAnswers {
  const out: Record<string, unknown> = {};
  const numeric = new Set(['minInstances', 'maxInstances', 'scaleUpThreshold', 'scaleDownThreshold', 'workers']);
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (numeric.has(key) && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) out[key] = Number(value);
    else if (key === 'gateway' && typeof value === 'string') out[key] = ['true', 'yes', 'y', '1'].includes(value.toLowerCase()) ? true : ['false', 'no', 'n', '0'].includes(value.toLowerCase()) ? false : value;
    else if (key === 'pythonVersion' && typeof value === 'number') out[key] = String(value);
    else out[key] = value;
  }
  return out as RawAnswers;
}

export interface AnswerProblem { key: string; option: string; message: string }

export type Resolution = { ok: true; answers: Answers } | { ok: false; problems: AnswerProblem[] };

/** given answers + defaults -> validated answers, or every problem at once. */
export function resolveAnswers(given: Record<string, unknown>): Resolution {
  const coerced = coerceAnswers(given);
  const merged: Record<string, unknown> = { ...defaultAnswers(coerced), ...coerced };
  const problems: AnswerProblem[] = [];
  const add = (key: string, message: string) =>
    problems.push({ key, option: key in ANSWER_DOCS ? ANSWER_DOCS[key as AnswerKey].option : key, message });
  for (const key of Object.keys(coerced)) {
    if (!(key in ANSWER_DOCS)) add(key, `is not an answer this generator knows (known: ${Object.keys(ANSWER_DOCS).join(', ')})`);
  }
  const parsed = AnswersObject.safeParse(merged);
  const failed = new Set<string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      failed.add(key);
      add(key, issue.message);
    }
  }
  for (const p of crossFieldProblems(merged, (key) => !failed.has(key))) add(p.key, p.message);
  if (parsed.success && problems.length === 0) return { ok: true, answers: parsed.data };
  return { ok: false, problems };
}

export function formatProblems(problems: AnswerProblem[]): string {
  const lines = problems.map((p) => `  --${p.option}: ${p.message}`);
  return `The answers have ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written. Fix:\n${lines.join('\n')}`;
}
