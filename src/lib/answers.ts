/**
 * The generator's answers: one zod schema validates them as a whole before anything is written, and every problem
 * is reported at once, phrased as what to change (naming the CLI option that sets it).
 */
import { z } from 'zod';
import { didYouMean } from './nearest.js';
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
/** What predicts in the service: scikit-learn itself, or the same pipeline compiled to ONNX and run by onnxruntime. */
export const RUNTIMES = ['sklearn', 'onnx'] as const;

// 2 to 40 characters: the length rule is part of the pattern, so a bad name gets one message, not one per rule.
const PROJECT_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const PROJECT_NAME_RULE = 'must be 2 to 40 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen';
// EB: "4 to 40 characters ... only letters, numbers, and hyphens ... can't start or end with a hyphen".
const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]$/;
const ENV_NAME_RULE = 'must be 4 to 40 letters, digits or hyphens, not starting or ending with a hyphen (EB environment naming rule)';
const HEALTH_PATH = /^\/[A-Za-z0-9._~\/-]*$/;

const wholeNumber = (min: number, max: number) => {
  const rule = `must be a whole number from ${min} to ${max}`;
  return z.number({ error: () => rule }).int({ error: rule }).min(min, { error: rule }).max(max, { error: rule });
};
const text = (rule: string) => z.string({ error: () => rule });

export const AnswersObject = z.object({
    name: text(PROJECT_NAME_RULE).regex(PROJECT_NAME, PROJECT_NAME_RULE),
    appName: text('must be text').min(1, 'must not be empty').max(100, 'must be at most 100 characters (EB limit)')
      .refine((s) => !s.includes('/'), 'must not contain "/" (EB application names cannot)')
      .refine((s) => s.trim() === s, 'must not start or end with spaces'),
    envName: text(ENV_NAME_RULE).regex(ENV_NAME, ENV_NAME_RULE),
    region: z.enum(EB_REGIONS, { error: () => `must be an AWS region where EB runs, e.g. us-east-1, eu-west-1 (known: ${EB_REGIONS.join(', ')})` }),
    platform: z.enum(PLATFORM_IDS, { error: () => `must be one of: ${PLATFORM_IDS.join(', ')}` }),
    pythonVersion: text('must be a Python version such as 3.11'),
    architecture: z.enum(ARCHITECTURES, { error: () => 'must be x86_64 or arm64' }),
    instanceType: text('must be an EC2 instance type such as t3.small or t4g.medium').regex(INSTANCE_TYPE_PATTERN, 'must be an EC2 instance type such as t3.small or t4g.medium'),
    environmentType: z.enum(ENVIRONMENT_TYPES, { error: () => 'must be load-balanced or single-instance' }),
    minInstances: wholeNumber(1, 100),
    maxInstances: wholeNumber(1, 100),
    scalingMetric: z.enum(Object.keys(SCALING_METRICS) as [keyof typeof SCALING_METRICS], { error: () => `must be one of: ${Object.keys(SCALING_METRICS).join(', ')}` }),
    scaleUpThreshold: z.number({ error: () => 'must be a number above 0' }).positive({ error: 'must be a number above 0' }),
    scaleDownThreshold: z.number({ error: () => 'must be a number, 0 or more' }).nonnegative({ error: 'must be a number, 0 or more' }),
    task: z.enum(TASKS, { error: () => 'must be classification or regression' }),
    estimator: z.enum(ALL_ESTIMATORS, { error: () => `must be one of: ${ALL_ESTIMATORS.join(', ')}` }),
    dataset: z.enum(DATASETS, { error: () => `must be one of: ${DATASETS.join(', ')}` }),
    csvPath: text('must be the path of a .csv file').optional(),
    targetColumn: text('must be the name of a column of the CSV').optional(),
    gateway: z.boolean({ error: () => 'must be true or false' }),
    healthCheckPath: text('must be a path starting with "/", e.g. /health').regex(HEALTH_PATH, 'must be a path starting with "/", e.g. /health')
      .refine((p) => !p.startsWith('/v1/'), 'must not be under /v1/, which the prediction API owns'),
    workers: wholeNumber(1, 32),
    modelFormat: z.enum(MODEL_FORMATS, { error: () => `must be one of: ${MODEL_FORMATS.join(', ')}` }),
    runtime: z.enum(RUNTIMES, { error: () => `must be one of: ${RUNTIMES.join(', ')}` }),
});

export type AnswerKey = keyof z.infer<typeof AnswersObject>;
type Current = z.infer<typeof AnswersObject>;

export interface Choice { value: string; name?: string }

/**
 * One record per answer: its option, what it means (--help), the question (prompts), the choices that fit the answers
 * given so far, when it is asked, and what a wrong choice is called. Defaults come from `defaultAnswers`, validation
 * from `AnswersObject` and the rules below. The order is the order of the questions: what model, what data, where it
 * runs, how it scales.
 */
export interface AnswerRecord {
  key: AnswerKey;
  option: string;
  describe: string;
  question: string;
  type: 'input' | 'select' | 'number' | 'confirm';
  /** Only what fits the other answers (the estimators of the task, the Python versions of the platform). */
  choices?: (a: Current) => Choice[];
  /** The answers the choices depend on: the choice is checked only once they are valid. */
  dependsOn?: AnswerKey[];
  /** What the choices are, for the message about a value that is not one: "a classification estimator". */
  choiceNoun?: (a: Current) => string;
  when?: (a: Current) => boolean;
  /** The default as --help says it, when it derives from other answers. */
  defaultText?: string;
}

const values = (list: readonly string[]): Choice[] => list.map((value) => ({ value }));
const DATASET_LABELS: Record<(typeof DATASETS)[number], string> = {
  iris: 'iris: 150 flowers, 3 species (bundled with scikit-learn)',
  wine: 'wine: 178 wines, 3 cultivars (bundled with scikit-learn)',
  breast_cancer: 'breast_cancer: 569 tumours, malignant or benign (bundled with scikit-learn)',
  diabetes: 'diabetes: disease progression of 442 patients (bundled with scikit-learn)',
  csv: 'csv: your own CSV file',
};
const loadBalanced = (a: Current) => a.environmentType === 'load-balanced';

export const ANSWER_RECORDS: AnswerRecord[] = [
  { key: 'name', option: 'name', type: 'input', describe: 'Project folder and model name (lowercase letters, digits, hyphens)', question: 'Project name (its folder and the model\'s name: lowercase letters, digits, hyphens)' },
  {
    key: 'task', option: 'task', type: 'select', describe: 'What the model predicts: classification (a class) or regression (a number)',
    question: 'What should the model predict?', defaultText: 'classification (regression with --dataset diabetes)',
    choices: () => [{ value: 'classification', name: 'a class (classification), e.g. the species of an iris' }, { value: 'regression', name: 'a number (regression), e.g. the progression of a disease' }],
    choiceNoun: () => 'a task',
  },
  {
    key: 'estimator', option: 'estimator', type: 'select', dependsOn: ['task'],
    describe: `scikit-learn estimator: ${ESTIMATORS.classification.join(', ')} (classification); ${ESTIMATORS.regression.join(', ')} (regression)`,
    question: 'Which scikit-learn estimator?', choices: (a) => values(ESTIMATORS[a.task]), choiceNoun: (a) => `a ${a.task} estimator`,
  },
  {
    key: 'dataset', option: 'dataset', type: 'select', dependsOn: ['task'], defaultText: 'iris (diabetes for regression)',
    describe: `Training data: ${DATASETS.filter((d) => d !== 'csv').map((d) => `${d} (${BUNDLED_DATASETS[d as 'iris']})`).join(', ')}, or csv (your file)`,
    question: 'What data should it learn from?', choiceNoun: (a) => `a ${a.task} dataset`,
    choices: (a) => DATASETS.filter((d) => d === 'csv' || BUNDLED_DATASETS[d] === a.task).map((d) => ({ value: d, name: DATASET_LABELS[d] })),
  },
  { key: 'csvPath', option: 'csv', type: 'input', describe: 'Path of your CSV file (with --dataset csv; copied into data/)', question: 'Path of your CSV file', when: (a) => a.dataset === 'csv' },
  { key: 'targetColumn', option: 'target', type: 'input', describe: 'The CSV column to predict (with --dataset csv)', question: 'Which column of the CSV should the model predict?', when: (a) => a.dataset === 'csv' },
  {
    key: 'region', option: 'region', type: 'select', describe: 'AWS region to deploy to', question: 'Which AWS region should it run in?',
    choices: () => values(EB_REGIONS), choiceNoun: () => 'an AWS region where EB runs',
  },
  {
    key: 'platform', option: 'platform', type: 'select', describe: 'EB platform: al2023 (gunicorn + nginx) or amazon-linux-ami (legacy: Apache + mod_wsgi)',
    question: 'Which Elastic Beanstalk platform?', choiceNoun: () => 'a platform this generator knows',
    choices: () => PLATFORM_IDS.map((id) => ({ value: id, name: `${id}: ${PLATFORMS[id].label}` })),
  },
  {
    key: 'pythonVersion', option: 'python-version', type: 'select', dependsOn: ['platform'], defaultText: `${PLATFORMS.al2023.defaultPython} (${PLATFORMS['amazon-linux-ami'].defaultPython} on amazon-linux-ami)`,
    describe: `Python version: ${PLATFORMS.al2023.pythonVersions.join(', ')} on al2023; ${PLATFORMS['amazon-linux-ami'].pythonVersions.join(', ')} on amazon-linux-ami`,
    question: 'Which Python version?', choices: (a) => values(PLATFORMS[a.platform].pythonVersions), choiceNoun: (a) => `available on the ${a.platform} platform`,
  },
  {
    key: 'architecture', option: 'architecture', type: 'select', dependsOn: ['platform'], describe: 'CPU architecture: x86_64 or arm64 (Graviton)',
    question: 'Which CPU architecture?', choiceNoun: (a) => `available on the ${a.platform} platform`,
    choices: (a) => PLATFORMS[a.platform].architectures.map((value) => ({ value, name: value === 'arm64' ? 'arm64 (Graviton)' : value })),
  },
  { key: 'instanceType', option: 'instance-type', type: 'input', describe: 'EC2 instance type; it must match the architecture', defaultText: 't3.small (t4g.small on arm64, t2.small on amazon-linux-ami)', question: 'Which EC2 instance type?' },
  { key: 'appName', option: 'app-name', type: 'input', describe: 'Elastic Beanstalk application name', defaultText: 'the project name', question: 'Elastic Beanstalk application name?' },
  { key: 'envName', option: 'env-name', type: 'input', describe: 'Elastic Beanstalk environment name (4 to 40 letters, digits, hyphens)', defaultText: '<name>-env', question: 'Elastic Beanstalk environment name?' },
  { key: 'healthCheckPath', option: 'health-check-path', type: 'input', describe: 'Path the load balancer checks for health', question: 'Which path should EB check for health?' },
  {
    key: 'environmentType', option: 'environment-type', type: 'select', describe: 'load-balanced (auto scaling) or single-instance',
    question: 'Load-balanced with auto scaling, or a single instance?', choiceNoun: () => 'an environment type',
    choices: () => [{ value: 'load-balanced', name: 'load-balanced: a load balancer and auto scaling' }, { value: 'single-instance', name: 'single-instance: one instance, no load balancer' }],
  },
  { key: 'minInstances', option: 'min-instances', type: 'number', describe: 'Fewest instances (load-balanced)', question: 'At least how many instances?', when: loadBalanced },
  { key: 'maxInstances', option: 'max-instances', type: 'number', describe: 'Most instances (load-balanced)', question: 'At most how many instances?', when: loadBalanced },
  {
    key: 'scalingMetric', option: 'scaling-metric', type: 'select', describe: `Metric that triggers scaling: ${Object.keys(SCALING_METRICS).join(', ')}`,
    question: 'Scale on which metric?', when: loadBalanced, choices: () => values(Object.keys(SCALING_METRICS)), choiceNoun: () => 'a scaling metric',
  },
  { key: 'scaleUpThreshold', option: 'scale-up-threshold', type: 'number', describe: 'Add an instance above this metric value', question: 'Add an instance when the metric is above:', when: loadBalanced },
  { key: 'scaleDownThreshold', option: 'scale-down-threshold', type: 'number', describe: 'Remove an instance below this metric value', question: 'Remove an instance when the metric is below:', when: loadBalanced },
  { key: 'workers', option: 'workers', type: 'number', describe: 'gunicorn worker processes per instance', question: 'How many gunicorn worker processes per instance?' },
  {
    key: 'modelFormat', option: 'model-format', type: 'select', dependsOn: ['platform'], defaultText: 'skops (joblib on amazon-linux-ami)',
    describe: 'Model file format: skops (loads without running code) or joblib (a pickle; the legacy platform\'s Python 3.6 has no skops)',
    question: 'Which file format should train.py write the model in?',
    choices: (a) => values(a.platform === 'amazon-linux-ami' ? ['joblib'] : MODEL_FORMATS),
    // skops needs Python 3.9+; the legacy platform runs 3.6.
    choiceNoun: (a) => (a.platform === 'amazon-linux-ami' ? 'available on amazon-linux-ami, whose Python 3.6 has no skops (use the al2023 platform for skops)' : `available on the ${a.platform} platform`),
  },
  {
    key: 'runtime', option: 'runtime', type: 'select', dependsOn: ['platform'],
    describe: 'What serves predictions: sklearn (the pipeline itself) or onnx (the same pipeline compiled with skl2onnx, proven equal on held-out rows, run by onnxruntime without scikit-learn)',
    question: 'Which runtime should serve the model?',
    choices: (a) => (a.platform === 'amazon-linux-ami' ? values(['sklearn']) : [
      { value: 'sklearn', name: 'sklearn: scikit-learn predicts (the fitted pipeline as trained)' },
      { value: 'onnx', name: 'onnx: onnxruntime predicts the converted pipeline (much faster per call, no scikit-learn on EB)' },
    ]),
    // The onnxruntime and skl2onnx this generator pins need Python 3.11+; the legacy platform runs 3.6.
    choiceNoun: (a) => (a.platform === 'amazon-linux-ami' ? 'available on amazon-linux-ami, whose Python 3.6 has no wheels of the onnxruntime and skl2onnx this generator pins (use --platform al2023 for onnx)' : `available on the ${a.platform} platform`),
  },
  { key: 'gateway', option: 'gateway', type: 'confirm', describe: 'Include the TypeScript prediction gateway (gateway/)', question: 'Add the TypeScript prediction gateway for frontend teams?' },
];

const RECORDS = new Map(ANSWER_RECORDS.map((r) => [r.key, r]));
export const answerRecord = (key: AnswerKey) => RECORDS.get(key)!;

/** Every answer's option and meaning, keyed by answer (the upgrade's --set reads it). */
export const ANSWER_DOCS = Object.fromEntries(ANSWER_RECORDS.map((r) => [r.key, { option: r.option, describe: r.describe }])) as Record<AnswerKey, { option: string; describe: string }>;

/**
 * Rules between answers. They run on every answer that is individually valid, even when others are not, so one run
 * reports every problem (a zod refinement would be skipped as soon as any single field failed).
 */
function crossFieldProblems(a: Record<string, unknown>, fieldOk: (key: AnswerKey) => boolean): Array<{ key: AnswerKey; message: string }> {
  const out: Array<{ key: AnswerKey; message: string }> = [];
  const ok = (...keys: AnswerKey[]) => keys.every(fieldOk);
  const problem = (key: AnswerKey, message: string) => out.push({ key, message });
  if (ok('instanceType', 'architecture') && instanceArchitecture(a.instanceType as string) !== a.architecture) {
    const hint = a.architecture === 'arm64' ? 'a Graviton type such as t4g.small' : 'an x86_64 type such as t3.small';
    problem('instanceType', `${a.instanceType} is an ${instanceArchitecture(a.instanceType as string)} instance type but the architecture is ${a.architecture}: choose ${hint}, or change --architecture`);
  }
  if (ok('minInstances', 'maxInstances') && (a.minInstances as number) > (a.maxInstances as number)) problem('maxInstances', `must be at least --min-instances (${a.minInstances})`);
  if (ok('scaleUpThreshold', 'scaleDownThreshold') && (a.scaleDownThreshold as number) >= (a.scaleUpThreshold as number)) problem('scaleDownThreshold', `must be below --scale-up-threshold (${a.scaleUpThreshold})`);
  if (ok('scalingMetric', 'scaleUpThreshold') && a.scalingMetric === 'CPUUtilization' && (a.scaleUpThreshold as number) > 100) problem('scaleUpThreshold', 'is a CPU percentage: at most 100');
  if (ok('dataset') && a.dataset === 'csv') {
    if (!a.csvPath) problem('csvPath', 'is required when the dataset is csv: give the path of your CSV file');
    else if (ok('csvPath') && !(a.csvPath as string).toLowerCase().endsWith('.csv')) problem('csvPath', 'must name a .csv file');
    if (!a.targetColumn) problem('targetColumn', 'is required when the dataset is csv: name the column to predict');
  }
  return out;
}

export const AnswersSchema = AnswersObject;

export type Answers = z.infer<typeof AnswersSchema>;

/**
 * One answer in the context of the others given so far (for a prompt's validate): true, or the message saying what
 * to fix. The same checks as resolveAnswers, so a prompt accepts exactly what the options accept.
 */
export function validateAnswer(key: AnswerKey, value: unknown, context: Record<string, unknown> = {}): true | string {
  const known = Object.fromEntries(Object.entries(context).filter(([k]) => RECORDS.has(k as AnswerKey)));
  const resolution = resolveAnswers({ ...known, [key]: value });
  if (resolution.ok) return true;
  const own = resolution.problems.find((p) => p.key === key);
  return own ? own.message : true;
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
    runtime: 'sklearn',
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

/** A choice answer that is not among the choices that fit the other answers, said in words, with the nearest one. */
function choiceProblem(record: AnswerRecord, merged: Current): string | undefined {
  const value = (merged as Record<string, unknown>)[record.key];
  const choices = record.choices!(merged).map((c) => c.value);
  if (choices.includes(String(value))) return undefined;
  const noun = record.choiceNoun?.(merged) ?? 'one of the choices';
  return `${String(value)} is not ${noun}: use one of ${choices.join(', ')}${didYouMean(String(value), choices)}`;
}

/** given answers + defaults -> validated answers, or every problem at once (one per answer). */
export function resolveAnswers(given: Record<string, unknown>): Resolution {
  const coerced = coerceAnswers(given);
  const merged: Record<string, unknown> = { ...defaultAnswers(coerced), ...coerced };
  const problems: AnswerProblem[] = [];
  const failed = new Set<string>();
  const add = (key: string, message: string) => {
    if (failed.has(key)) return; // the first problem of an answer says what to fix; more would repeat it
    failed.add(key);
    problems.push({ key, option: RECORDS.get(key as AnswerKey)?.option ?? key, message });
  };
  const options = ANSWER_RECORDS.map((r) => r.option);
  for (const key of Object.keys(coerced)) {
    if (!RECORDS.has(key as AnswerKey)) {
      const option = ANSWER_RECORDS.find((r) => r.option === key)?.key;
      add(key, option ? `is the option's name: the answer is called ${option}` : `is not an answer this generator knows${didYouMean(key, [...RECORDS.keys(), ...options])} (known: ${[...RECORDS.keys()].join(', ')})`);
    }
  }
  const parsed = AnswersObject.safeParse(merged);
  const issues = parsed.success ? [] : parsed.error.issues;
  const zodFailed = new Set(issues.map((i) => String(i.path[0] ?? '')));
  // Choices first: "ridge is not a classification estimator: use one of ..." says more than the enum's whole list.
  for (const record of ANSWER_RECORDS) {
    if (!record.choices || (record.dependsOn ?? []).some((k) => zodFailed.has(k))) continue;
    const message = choiceProblem(record, merged as Current);
    if (message) add(record.key, message);
  }
  for (const issue of issues) add(String(issue.path[0] ?? ''), issue.message);
  for (const p of crossFieldProblems(merged, (key) => !failed.has(key))) add(p.key, p.message);
  if (parsed.success && problems.length === 0) return { ok: true, answers: parsed.data };
  return { ok: false, problems };
}

export function formatProblems(problems: AnswerProblem[]): string {
  const lines = problems.map((p) => `  --${p.option}: ${p.message}`);
  return `The answers have ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written. Fix:\n${lines.join('\n')}`;
}
