/**
 * The generator's answers, one record each: its CLI option, what --help says, the question, the choices that fit the
 * answers given before it, when it is asked, its default (possibly derived from earlier answers) and its zod schema
 * with the message a wrong value gets. The prompts, --help, --yes, answers files, the Answers type, the stored
 * answers and every error message are derived from these records; nothing restates them.
 *
 * Adding an answer: add one `.answer(key, {...})` to ANSWERS below, at the place in the questions where a person would
 * decide it (its callbacks see the answers before it, typed). If it constrains another answer, add a line to
 * `crossAnswerProblems`, naming options through `optionOf`. Then use it in the plan or templates; nothing else here.
 *
 * All answers are validated at once before anything is written, and every problem is reported together, phrased as
 * what to change and naming the option that sets it.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { csvColumns, csvFileProblem } from './csv.js';
import { didYouMean } from './nearest.js';
import {
  ARCHITECTURES,
  EB_REGIONS,
  INSTANCE_TYPE_PATTERN,
  PLATFORMS,
  PLATFORM_IDS,
  SCALING_METRICS,
  instanceArchitecture,
} from './platforms.js';
import { DEPLOYMENT_POLICIES, POLICY_FACTS, defaultPolicy, policiesFor } from './deployment.js';

export const TASKS = ['classification', 'regression'] as const;
export const ESTIMATORS = {
  classification: ['logistic_regression', 'random_forest', 'gradient_boosting'],
  regression: ['ridge', 'random_forest', 'gradient_boosting'],
} as const;
export const ALL_ESTIMATORS = ['logistic_regression', 'random_forest', 'gradient_boosting', 'ridge'] as const;
/** Datasets bundled with scikit-learn, and the task each one is for; `csv` is the user's own file. */
export const BUNDLED_DATASETS = {
  iris: 'classification',
  wine: 'classification',
  breast_cancer: 'classification',
  diabetes: 'regression',
} as const;
export const DATASETS = ['iris', 'wine', 'breast_cancer', 'diabetes', 'csv'] as const;
export const ENVIRONMENT_TYPES = ['load-balanced', 'single-instance'] as const;
/** How the model file is written: skops (no code runs when it loads) or joblib (a pickle; the legacy Python 3.6 has no skops). */
export const MODEL_FORMATS = ['skops', 'joblib'] as const;
/** What predicts in the service: scikit-learn itself, or the same pipeline compiled to ONNX and run by onnxruntime. */
export const RUNTIMES = ['sklearn', 'onnx'] as const;
/** The feature types of schema.json (docs/contract.md, "Feature types"), as --feature-type NAME=TYPE names them. */
export const FEATURE_TYPES = ['number', 'integer', 'category', 'text', 'boolean', 'date', 'datetime'] as const;
const FEATURE_TYPE_RULE = `must be NAME=TYPE pairs separated by commas, TYPE one of: ${FEATURE_TYPES.join(', ')}`;

/**
 * The featureTypes answer ("review=text,joined=date") as [name, type] pairs. The last "=" separates, as in
 * tools/schema_derivation.py's parse_feature_types, so a column name may contain one.
 */
export function featureTypePairs(value: string | undefined): Array<[string, string]> {
  return (value ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.lastIndexOf('=')), pair.slice(pair.lastIndexOf('=') + 1)]);
}

/** --feature-type given several times (an array), as an object in an answers file, or as text: one canonical text. */
function featureTypesText(value: unknown): unknown {
  if (Array.isArray(value)) return featureTypesText(value.join(','));
  if (value && typeof value === 'object')
    return featureTypesText(
      Object.entries(value)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    );
  if (typeof value !== 'string') return value;
  return value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .join(',');
}

// 2 to 40 characters: the length rule is part of the pattern, so a bad name gets one message, not one per rule.
const PROJECT_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$/;
const PROJECT_NAME_RULE =
  'must be 2 to 40 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen';
// EB: "4 to 40 characters ... only letters, numbers, and hyphens ... can't start or end with a hyphen".
const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]$/;
const ENV_NAME_RULE =
  'must be 4 to 40 letters, digits or hyphens, not starting or ending with a hyphen (EB environment naming rule)';
const HEALTH_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNETS = /^subnet-[0-9a-f]{8,17}(,subnet-[0-9a-f]{8,17})+$/;
const SUBNETS_RULE =
  'must be two or more subnet ids, comma-separated (subnet-...,subnet-...: an ALB needs two Availability Zones), or empty';
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
const CERTIFICATE_ARN = /^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const DOMAIN_RULE = 'must be a domain name such as api.example.com (lowercase), or empty';

const wholeNumber = (min: number, max: number) => {
  const rule = `must be a whole number from ${min} to ${max}`;
  return z
    .number({ error: () => rule })
    .int({ error: rule })
    .min(min, { error: rule })
    .max(max, { error: rule });
};
const text = (rule: string) => z.string({ error: () => rule });
/** Text that is either empty (not given) or matches `pattern`. */
const optionalText = (pattern: RegExp, rule: string) =>
  text(rule).refine((v) => v === '' || pattern.test(v), { error: rule });

const oneOf = <T extends readonly [string, ...string[]]>(list: T, rule = `must be one of: ${list.join(', ')}`) =>
  z.enum(list, { error: () => rule });

export interface Choice {
  value: string;
  name?: string;
}
/** Answers as given (options, a file, a prompt): unchecked, possibly strings where numbers are meant. */
export type RawAnswers = Partial<Record<string, unknown>>;

/** What one `.answer()` declares; `Earlier` is the answers asked before it, which its callbacks may read. */
interface AnswerSpec<Earlier, S extends z.ZodType> {
  /** The CLI option (and the name in error messages); the answer's key is the record's key. */
  option: string;
  /** What it means, for --help. */
  describe: string;
  question: string;
  type: 'input' | 'select' | 'number' | 'confirm';
  /** What a valid value is, each rule with the message that says what to fix (never zod's own words). */
  schema: S;
  /** Used when the answer is not given (--yes, no terminal, the prompt's pre-filled value). No default: it must be given. */
  default?: z.output<S> | ((earlier: Earlier, given: RawAnswers) => z.output<S>);
  /** The default as --help says it, when it derives from other answers. */
  defaultText?: string;
  /** Only what fits the earlier answers (the estimators of the task, the Python versions of the platform). */
  choices?: (earlier: Earlier) => Choice[];
  /** The earlier answers the choices depend on: the choice is checked only once they are valid. */
  dependsOn?: Array<keyof Earlier & string>;
  /** What the choices are, for the message about a value that is not one: "a classification estimator". */
  choiceNoun?: (earlier: Earlier) => string;
  /** Asked only when this holds; otherwise the default stands. */
  when?: (earlier: Earlier) => boolean;
  /** Only training needs it: not asked when the user serves a model of their own (--model). */
  forTraining?: true;
  /** How a value typed as text (an option, a prompt) becomes what the schema expects, beyond numbers and yes/no. */
  coerce?: (value: unknown) => unknown;
  /**
   * What only the user's disk can tell (the CSV exists, the column is in it), relative to `cwd`: checked where the
   * answer is given (its prompt, the app before anything is written), never on upgrade, where the file may be gone.
   */
  check?: (value: z.output<S>, earlier: Earlier, cwd: string) => string | undefined;
  /** Choices only the disk knows (the CSV's columns): the prompt offers them; a value given otherwise meets `check`. */
  promptChoices?: (earlier: Earlier, cwd: string) => Choice[] | undefined;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The records, built one `.answer()` at a time so each record's callbacks are typed by the answers before it (a
 * single object literal could not be: its type would depend on itself).
 */
class AnswerTable<Shape extends Record<string, z.ZodType>> {
  constructor(
    readonly shape: Shape,
    readonly records: readonly AnswerRecord[],
  ) {}

  answer<K extends string, S extends z.ZodType>(
    key: K,
    spec: AnswerSpec<z.output<z.ZodObject<Shape>>, S>,
  ): AnswerTable<Simplify<Shape & Record<K, S>>> {
    // Two records for one answer or one option would make the second silently win.
    if (key in this.shape || this.records.some((r) => r.option === spec.option))
      throw new Error(`answer ${key} (--${spec.option}) is declared twice`);
    // The callbacks take the earlier answers; called with all of them they see a superset, which is what they accept.
    const record = { key, ...spec } as unknown as AnswerRecord;
    return new AnswerTable({ ...this.shape, [key]: spec.schema } as Simplify<Shape & Record<K, S>>, [
      ...this.records,
      record,
    ]);
  }
}

const values = (list: readonly string[]): Choice[] => list.map((value) => ({ value }));
/** The task a bundled dataset is for; undefined for the user's CSV, which may be either. */
const datasetTask = (dataset: string) => BUNDLED_DATASETS[dataset as keyof typeof BUNDLED_DATASETS];
const DATASET_LABELS: Record<(typeof DATASETS)[number], string> = {
  iris: 'iris: the species of 150 flowers (classification, bundled with scikit-learn)',
  wine: 'wine: the cultivar of 178 wines (classification, bundled with scikit-learn)',
  breast_cancer: 'breast_cancer: 569 tumours, malignant or benign (classification, bundled with scikit-learn)',
  diabetes: 'diabetes: disease progression of 442 patients (regression, bundled with scikit-learn)',
  csv: 'csv: your own CSV file (its columns are offered as the target next)',
};
const loadBalanced = (a: { environmentType: string }) => a.environmentType === 'load-balanced';

/** In the order of the questions: the data, what to predict from it and how, where it runs, how it scales. */
const ANSWERS = new AnswerTable({}, [])
  .answer('name', {
    option: 'name',
    type: 'input',
    describe: 'Project folder and model name (lowercase letters, digits, hyphens)',
    question: "Project name (its folder and the model's name: lowercase letters, digits, hyphens)",
    schema: text(PROJECT_NAME_RULE).regex(PROJECT_NAME, PROJECT_NAME_RULE),
    default: 'sci-eb-model',
  })
  .answer('dataset', {
    option: 'dataset',
    type: 'select',
    forTraining: true,
    describe: `Training data: ${DATASETS.filter((d) => d !== 'csv')
      .map((d) => `${d} (${BUNDLED_DATASETS[d as 'iris']})`)
      .join(', ')}, or csv (your file, given with --csv)`,
    question: 'What data should the model learn from?',
    schema: oneOf(DATASETS),
    // A CSV or a target column given means the user's data: never train on iris with their file sitting unused.
    default: (_, given) =>
      given.csvPath !== undefined || given.targetColumn !== undefined
        ? 'csv'
        : given.task === 'regression'
          ? 'diabetes'
          : 'iris',
    defaultText: 'iris (csv with --csv, diabetes with --task regression)',
    choices: () => DATASETS.map((d) => ({ value: d, name: DATASET_LABELS[d] })),
    choiceNoun: () => 'a dataset',
  })
  .answer('csvPath', {
    option: 'csv',
    type: 'input',
    forTraining: true,
    describe: 'Path of your CSV file (means --dataset csv; copied into data/)',
    question: 'Path of your CSV file',
    schema: text('must be the path of a .csv file').optional(),
    // Typed at a prompt, a path may come quoted (dragged into the terminal) or start with ~, which no shell expanded.
    coerce: (value) => {
      if (typeof value !== 'string') return value;
      const bare = value.trim().replace(/^(['"])(.*)\1$/, '$2');
      return bare === '~' || bare.startsWith('~/') ? path.join(os.homedir(), bare.slice(1)) : bare;
    },
    check: (value, _a, cwd) => (value === undefined ? undefined : csvFileProblem(value, cwd)),
    when: (a) => a.dataset === 'csv',
  })
  .answer('targetColumn', {
    option: 'target',
    type: 'input',
    forTraining: true,
    dependsOn: ['csvPath'],
    describe: 'The CSV column to predict (with --csv)',
    question: 'Which column of the CSV should the model predict?',
    schema: text('must be the name of a column of the CSV').optional(),
    promptChoices: (a, cwd) => {
      const columns = a.csvPath ? csvColumns(a.csvPath, cwd) : undefined;
      return columns && values(columns);
    },
    check: (value, a, cwd) => {
      const columns = value !== undefined && a.csvPath ? csvColumns(a.csvPath, cwd) : undefined;
      if (!columns || columns.includes(value!)) return undefined;
      return `${a.csvPath} has no column "${value}"; its columns are: ${columns.join(', ')}${didYouMean(value!, columns)}`;
    },
    when: (a) => a.dataset === 'csv',
  })
  .answer('task', {
    option: 'task',
    type: 'select',
    forTraining: true,
    dependsOn: ['dataset'],
    describe:
      'What the model predicts: classification (a class) or regression (a number); a bundled dataset decides it',
    question: 'What should the model predict?',
    schema: oneOf(TASKS, 'must be classification or regression'),
    default: (a) => datasetTask(a.dataset) ?? 'classification',
    defaultText: "the dataset's (classification for csv)",
    choices: (a) =>
      [
        { value: 'classification', name: 'a class (classification), e.g. the species of an iris' },
        { value: 'regression', name: 'a number (regression), e.g. the progression of a disease' },
      ].filter((c) => (datasetTask(a.dataset) ?? c.value) === c.value),
    choiceNoun: (a) => {
      const other = datasetTask(a.dataset) === 'regression' ? 'classification' : 'regression';
      const datasets = [...DATASETS.filter((d) => datasetTask(d) === other), 'csv'];
      return a.dataset === 'csv'
        ? 'a task'
        : `what the ${a.dataset} dataset is for (for ${other}, use --dataset ${datasets.join(' or ')})`;
    },
    // A bundled dataset has one task; only the user's CSV leaves it open.
    when: (a) => a.dataset === 'csv',
  })
  .answer('estimator', {
    option: 'estimator',
    type: 'select',
    forTraining: true,
    dependsOn: ['task'],
    describe: `scikit-learn estimator: ${ESTIMATORS.classification.join(', ')} (classification); ${ESTIMATORS.regression.join(', ')} (regression)`,
    question: 'Which scikit-learn estimator?',
    schema: oneOf(ALL_ESTIMATORS),
    default: 'random_forest',
    choices: (a) => values(ESTIMATORS[a.task]),
    choiceNoun: (a) => `a ${a.task} estimator`,
  })
  .answer('featureTypes', {
    option: 'feature-type',
    type: 'input',
    describe:
      'Feature types over what the model and the data say, NAME=TYPE (comma-separated or repeated; TYPE: number, integer, category, text, boolean, date, datetime), e.g. review=text; used by train.py and by --model',
    question: 'Any column types to set (NAME=TYPE, comma-separated, e.g. review=text; empty: from the data)?',
    schema: text(FEATURE_TYPE_RULE).refine(
      (value) =>
        featureTypePairs(value).every(
          ([name, kind]) => name !== '' && (FEATURE_TYPES as readonly string[]).includes(kind),
        ),
      FEATURE_TYPE_RULE,
    ),
    coerce: featureTypesText,
    default: '',
    defaultText: 'none: types come from the model and the data',
    when: (a) => a.dataset === 'csv',
  })
  .answer('region', {
    option: 'region',
    type: 'select',
    describe: 'AWS region to deploy to',
    question: 'Which AWS region should it run in?',
    schema: oneOf(
      EB_REGIONS,
      `must be an AWS region where EB runs, e.g. us-east-1, eu-west-1 (known: ${EB_REGIONS.join(', ')})`,
    ),
    default: 'us-east-1',
    choices: () => values(EB_REGIONS),
    choiceNoun: () => 'an AWS region where EB runs',
  })
  .answer('platform', {
    option: 'platform',
    type: 'select',
    describe: 'EB platform: al2023 (gunicorn + nginx) or amazon-linux-ami (legacy: Apache + mod_wsgi)',
    question: 'Which Elastic Beanstalk platform?',
    schema: oneOf(PLATFORM_IDS),
    default: 'al2023',
    choices: () => PLATFORM_IDS.map((id) => ({ value: id, name: `${id}: ${PLATFORMS[id].label}` })),
    choiceNoun: () => 'a platform this generator knows',
  })
  .answer('pythonVersion', {
    option: 'python-version',
    type: 'select',
    dependsOn: ['platform'],
    describe: `Python version: ${PLATFORMS.al2023.pythonVersions.join(', ')} on al2023; ${PLATFORMS['amazon-linux-ami'].pythonVersions.join(', ')} on amazon-linux-ami`,
    question: 'Which Python version?',
    schema: text('must be a Python version such as 3.11'),
    // An answers file may say 3.12 without quotes.
    coerce: (value) => (typeof value === 'number' ? String(value) : value),
    default: (a) => PLATFORMS[a.platform].defaultPython,
    defaultText: `${PLATFORMS.al2023.defaultPython} (${PLATFORMS['amazon-linux-ami'].defaultPython} on amazon-linux-ami)`,
    choices: (a) => values(PLATFORMS[a.platform].pythonVersions),
    choiceNoun: (a) => `available on the ${a.platform} platform`,
  })
  .answer('architecture', {
    option: 'architecture',
    type: 'select',
    dependsOn: ['platform'],
    describe: 'CPU architecture: x86_64 or arm64 (Graviton)',
    question: 'Which CPU architecture?',
    schema: oneOf(ARCHITECTURES, 'must be x86_64 or arm64'),
    default: 'x86_64',
    choices: (a) =>
      PLATFORMS[a.platform].architectures.map((value) => ({
        value,
        name: value === 'arm64' ? 'arm64 (Graviton)' : value,
      })),
    choiceNoun: (a) => `available on the ${a.platform} platform`,
  })
  .answer('instanceType', {
    option: 'instance-type',
    type: 'input',
    describe: 'EC2 instance type; it must match the architecture',
    question: 'Which EC2 instance type?',
    schema: text('must be an EC2 instance type such as t3.small or t4g.medium').regex(
      INSTANCE_TYPE_PATTERN,
      'must be an EC2 instance type such as t3.small or t4g.medium',
    ),
    default: (a) =>
      PLATFORMS[a.platform].defaultInstanceType[a.architecture] ?? PLATFORMS[a.platform].defaultInstanceType.x86_64!,
    defaultText: 't3.small (t4g.small on arm64, t2.small on amazon-linux-ami)',
  })
  .answer('appName', {
    option: 'app-name',
    type: 'input',
    describe: 'Elastic Beanstalk application name',
    question: 'Elastic Beanstalk application name?',
    schema: text('must be text')
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters (EB limit)')
      .refine((s) => !s.includes('/'), 'must not contain "/" (EB application names cannot)')
      .refine((s) => s.trim() === s, 'must not start or end with spaces'),
    default: (a) => a.name,
    defaultText: 'the project name',
  })
  .answer('envName', {
    option: 'env-name',
    type: 'input',
    describe: 'Elastic Beanstalk environment name (4 to 40 letters, digits, hyphens)',
    question: 'Elastic Beanstalk environment name?',
    schema: text(ENV_NAME_RULE).regex(ENV_NAME, ENV_NAME_RULE),
    default: (a) => `${a.name}-env`.slice(0, 40).replace(/-+$/, ''),
    defaultText: '<name>-env',
  })
  .answer('healthCheckPath', {
    option: 'health-check-path',
    type: 'input',
    describe: 'Path the load balancer checks for health',
    question: 'Which path should EB check for health?',
    schema: text('must be a path starting with "/", e.g. /health')
      .regex(HEALTH_PATH, 'must be a path starting with "/", e.g. /health')
      .refine((p) => !p.startsWith('/v1/'), 'must not be under /v1/, which the prediction API owns'),
    default: '/health',
  })
  .answer('environmentType', {
    option: 'environment-type',
    type: 'select',
    describe: 'load-balanced (auto scaling) or single-instance',
    question: 'Load-balanced with auto scaling, or a single instance?',
    schema: oneOf(ENVIRONMENT_TYPES, 'must be load-balanced or single-instance'),
    default: 'load-balanced',
    choices: () => [
      { value: 'load-balanced', name: 'load-balanced: a load balancer and auto scaling' },
      { value: 'single-instance', name: 'single-instance: one instance, no load balancer' },
    ],
    choiceNoun: () => 'an environment type',
  })
  .answer('minInstances', {
    option: 'min-instances',
    type: 'number',
    describe: 'Fewest instances (load-balanced)',
    question: 'At least how many instances?',
    schema: wholeNumber(1, 100),
    default: 1,
    when: loadBalanced,
  })
  .answer('maxInstances', {
    option: 'max-instances',
    type: 'number',
    describe: 'Most instances (load-balanced)',
    question: 'At most how many instances?',
    schema: wholeNumber(1, 100),
    default: 4,
    when: loadBalanced,
  })
  .answer('scalingMetric', {
    option: 'scaling-metric',
    type: 'select',
    describe: `Metric that triggers scaling: ${Object.keys(SCALING_METRICS).join(', ')}`,
    question: 'Scale on which metric?',
    schema: oneOf(Object.keys(SCALING_METRICS) as [keyof typeof SCALING_METRICS]),
    default: 'CPUUtilization',
    when: loadBalanced,
    choices: () => values(Object.keys(SCALING_METRICS)),
    choiceNoun: () => 'a scaling metric',
  })
  .answer('scaleUpThreshold', {
    option: 'scale-up-threshold',
    type: 'number',
    describe: 'Add an instance above this metric value',
    question: 'Add an instance when the metric is above:',
    schema: z.number({ error: () => 'must be a number above 0' }).positive({ error: 'must be a number above 0' }),
    default: 70,
    when: loadBalanced,
  })
  .answer('scaleDownThreshold', {
    option: 'scale-down-threshold',
    type: 'number',
    describe: 'Remove an instance below this metric value',
    question: 'Remove an instance when the metric is below:',
    schema: z
      .number({ error: () => 'must be a number, 0 or more' })
      .nonnegative({ error: 'must be a number, 0 or more' }),
    default: 30,
    when: loadBalanced,
  })
  .answer('deploymentPolicy', {
    option: 'deployment-policy',
    type: 'select',
    dependsOn: ['environmentType'],
    describe: `How eb deploy replaces the running version: ${DEPLOYMENT_POLICIES.join(', ')} (load-balanced only: ${DEPLOYMENT_POLICIES.filter((p) => POLICY_FACTS[p].loadBalancedOnly).join(', ')})`,
    question: 'How should a deploy replace the running model?',
    schema: oneOf(DEPLOYMENT_POLICIES),
    default: (a) => defaultPolicy(a.environmentType),
    defaultText: `${defaultPolicy('load-balanced')} (${defaultPolicy('single-instance')} on a single instance)`,
    choices: (a) =>
      policiesFor(a.environmentType).map((value) => ({ value, name: `${value}: ${POLICY_FACTS[value].summary}` })),
    choiceNoun: (a) =>
      a.environmentType === 'single-instance'
        ? 'a policy EB allows on a single instance (rolling and traffic splitting need a load balancer)'
        : 'an EB deployment policy',
  })
  .answer('workers', {
    option: 'workers',
    type: 'number',
    describe: 'gunicorn worker processes per instance',
    question: 'How many gunicorn worker processes per instance?',
    schema: wholeNumber(1, 32),
    default: 2,
  })
  .answer('modelFormat', {
    option: 'model-format',
    type: 'select',
    dependsOn: ['platform'],
    describe:
      "Model file format: skops (loads without running code) or joblib (a pickle; the legacy platform's Python 3.6 has no skops)",
    question: 'Which file format should train.py write the model in?',
    schema: oneOf(MODEL_FORMATS),
    // skops needs Python 3.9+; the legacy platform runs 3.6.
    default: (a) => (a.platform === 'amazon-linux-ami' ? 'joblib' : 'skops'),
    defaultText: 'skops (joblib on amazon-linux-ami)',
    choices: (a) => values(a.platform === 'amazon-linux-ami' ? ['joblib'] : MODEL_FORMATS),
    choiceNoun: (a) =>
      a.platform === 'amazon-linux-ami'
        ? 'available on amazon-linux-ami, whose Python 3.6 has no skops (use the al2023 platform for skops)'
        : `available on the ${a.platform} platform`,
  })
  .answer('runtime', {
    option: 'runtime',
    type: 'select',
    dependsOn: ['platform'],
    describe:
      'What serves predictions: sklearn (the pipeline itself) or onnx (the same pipeline compiled with skl2onnx, proven equal on held-out rows, run by onnxruntime without scikit-learn)',
    question: 'Which runtime should serve the model?',
    schema: oneOf(RUNTIMES),
    default: 'sklearn',
    choices: (a) =>
      a.platform === 'amazon-linux-ami'
        ? values(['sklearn'])
        : [
            { value: 'sklearn', name: 'sklearn: scikit-learn predicts (the fitted pipeline as trained)' },
            {
              value: 'onnx',
              name: 'onnx: onnxruntime predicts the converted pipeline (much faster per call, no scikit-learn on EB)',
            },
          ],
    // The onnxruntime and skl2onnx this generator pins need Python 3.11+; the legacy platform runs 3.6.
    choiceNoun: (a) =>
      a.platform === 'amazon-linux-ami'
        ? 'available on amazon-linux-ami, whose Python 3.6 has no wheels of the onnxruntime and skl2onnx this generator pins (use --platform al2023 for onnx)'
        : `available on the ${a.platform} platform`,
  })
  .answer('gateway', {
    option: 'gateway',
    type: 'confirm',
    describe: 'Include the TypeScript prediction gateway (gateway/)',
    question: 'Add the TypeScript prediction gateway for frontend teams?',
    schema: z.boolean({ error: () => 'must be true or false' }),
    default: false,
  })
  // Where it runs on the network and how it is reached (README "Security"): all optional, '' when not given.
  .answer('vpcId', {
    option: 'vpc-id',
    type: 'input',
    describe:
      "The VPC to run in (vpc-...); with the gateway the service's load balancer is then internal: only the gateway, inside the VPC, reaches it",
    question: 'Which VPC should the environments run in? (vpc-..., empty: the default VPC, everything public)',
    schema: optionalText(VPC_ID, 'must be a VPC id such as vpc-0a1b2c3d4e5f67890, or empty'),
    default: '',
    when: (a) => a.gateway && loadBalanced(a),
  })
  .answer('serviceSubnets', {
    option: 'service-subnets',
    type: 'input',
    describe:
      "With --vpc-id: the service's subnets (comma-separated, two or more Availability Zones); private ones need a NAT gateway for pip",
    question: "The service's subnets in that VPC (subnet-...,subnet-...)",
    schema: optionalText(SUBNETS, SUBNETS_RULE),
    default: '',
    when: (a) => Boolean(a.vpcId),
  })
  .answer('gatewaySubnets', {
    option: 'gateway-subnets',
    type: 'input',
    describe: "With --vpc-id: the gateway's public subnets (comma-separated, two or more Availability Zones)",
    question: "The gateway's public subnets in that VPC (subnet-...,subnet-...)",
    schema: optionalText(SUBNETS, SUBNETS_RULE),
    default: '',
    when: (a) => Boolean(a.vpcId) && a.gateway,
  })
  .answer('gatewaySecurityGroup', {
    option: 'gateway-security-group',
    type: 'input',
    describe:
      "With --vpc-id: a security group (sg-...) for the gateway's instances; the service's load balancer then admits only it",
    question: "A security group for the gateway's instances, the only one the service admits (sg-..., empty: the VPC)",
    schema: optionalText(SECURITY_GROUP, 'must be a security group id such as sg-0a1b2c3d4e5f67890, or empty'),
    default: '',
    when: (a) => Boolean(a.vpcId) && a.gateway,
  })
  .answer('certificateArn', {
    option: 'certificate-arn',
    type: 'input',
    describe:
      'ACM certificate ARN (same region) for HTTPS on every public load balancer: 443 with TLS 1.2/1.3, port 80 redirected, HSTS (load-balanced only; empty: plain HTTP)',
    question: 'ACM certificate ARN for HTTPS (empty: plain HTTP, unencrypted)',
    schema: optionalText(
      CERTIFICATE_ARN,
      'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>), or empty',
    ),
    default: '',
    when: loadBalanced,
  })
  .answer('domain', {
    option: 'domain',
    type: 'input',
    describe:
      "With --certificate-arn: the public name clients use (the gateway's when there is one), which the certificate covers",
    question: 'The domain clients call (api.example.com), pointed at the environment by a DNS record of yours',
    schema: optionalText(DOMAIN, DOMAIN_RULE),
    default: '',
    when: (a) => Boolean(a.certificateArn),
  })
  .answer('serviceDomain', {
    option: 'service-domain',
    type: 'input',
    describe:
      "With the gateway and --certificate-arn but no --vpc-id: the service's own name, so the gateway reaches it over HTTPS",
    question: "The service's own domain (model.example.com), also covered by the certificate",
    schema: optionalText(DOMAIN, DOMAIN_RULE),
    default: '',
    when: (a) => a.gateway && Boolean(a.certificateArn) && !a.vpcId,
  });

/** All answers as one object: validates them together (the rules between them are `crossAnswerProblems`). */
export const AnswersObject = z.object(ANSWERS.shape);
export const AnswersSchema = AnswersObject;
export type Answers = z.infer<typeof AnswersObject>;
export type AnswerKey = keyof Answers & string;

/** One answer's record, as the prompts, options, help and validation read it (with all answers in hand). */
export interface AnswerRecord extends Omit<AnswerSpec<Answers, z.ZodType>, 'dependsOn'> {
  key: AnswerKey;
  dependsOn?: AnswerKey[];
}

export const ANSWER_RECORDS: readonly AnswerRecord[] = ANSWERS.records;
const RECORDS = new Map(ANSWER_RECORDS.map((r) => [r.key, r]));
export const answerRecord = (key: AnswerKey) => RECORDS.get(key)!;
const optionOf = (key: AnswerKey) => `--${answerRecord(key).option}`;

/** Every answer's option and meaning, keyed by answer (the upgrade's --set reads it). */
export const ANSWER_DOCS = Object.fromEntries(
  ANSWER_RECORDS.map((r) => [r.key, { option: r.option, describe: r.describe }]),
) as Record<AnswerKey, { option: string; describe: string }>;

/** The default as --help shows it: the record's words when it derives from other answers, else its value. */
export function defaultTextOf(record: AnswerRecord): string {
  return record.defaultText ?? String(defaultAnswers({})[record.key] ?? '');
}

/**
 * Rules between answers. They run on every answer that is individually valid, even when others are not, so one run
 * reports every problem (a zod refinement would be skipped as soon as any single field failed).
 */
function crossAnswerProblems(
  a: Record<string, unknown>,
  fieldOk: (key: AnswerKey) => boolean,
): Array<{ key: AnswerKey; message: string }> {
  const out: Array<{ key: AnswerKey; message: string }> = [];
  const ok = (...keys: AnswerKey[]) => keys.every(fieldOk);
  const problem = (key: AnswerKey, message: string) => out.push({ key, message });
  if (ok('instanceType', 'architecture') && instanceArchitecture(a.instanceType as string) !== a.architecture) {
    const hint = a.architecture === 'arm64' ? 'a Graviton type such as t4g.small' : 'an x86_64 type such as t3.small';
    problem(
      'instanceType',
      `${a.instanceType} is an ${instanceArchitecture(a.instanceType as string)} instance type but the architecture is ${a.architecture}: choose ${hint}, or change ${optionOf('architecture')}`,
    );
  }
  if (ok('minInstances', 'maxInstances') && (a.minInstances as number) > (a.maxInstances as number))
    problem('maxInstances', `must be at least ${optionOf('minInstances')} (${a.minInstances})`);
  if (
    ok('scaleUpThreshold', 'scaleDownThreshold') &&
    (a.scaleDownThreshold as number) >= (a.scaleUpThreshold as number)
  )
    problem('scaleDownThreshold', `must be below ${optionOf('scaleUpThreshold')} (${a.scaleUpThreshold})`);
  if (
    ok('scalingMetric', 'scaleUpThreshold') &&
    a.scalingMetric === 'CPUUtilization' &&
    (a.scaleUpThreshold as number) > 100
  )
    problem('scaleUpThreshold', 'is a CPU percentage: at most 100');
  const given = (key: AnswerKey) => ok(key) && Boolean(a[key]);
  if (given('certificateArn') && ok('environmentType') && a.environmentType === 'single-instance')
    problem(
      'certificateArn',
      `needs a load balancer to hold it, and a single instance has none: use ${optionOf('environmentType')} load-balanced, or terminate TLS on the instance yourself`,
    );
  if (given('certificateArn') && ok('region') && !(a.certificateArn as string).includes(`:acm:${a.region}:`))
    problem(
      'certificateArn',
      `must be a certificate in ${a.region} (${optionOf('region')}): a load balancer uses certificates of its own region`,
    );
  if (given('certificateArn') && ok('domain') && !a.domain)
    problem(
      'domain',
      `is required with ${optionOf('certificateArn')}: the name the certificate covers, which clients call`,
    );
  if (given('domain') && ok('certificateArn') && !a.certificateArn)
    problem('domain', `only means something with ${optionOf('certificateArn')} (HTTPS for that name)`);
  if (given('vpcId') && ok('serviceSubnets') && !a.serviceSubnets)
    problem('serviceSubnets', `is required with ${optionOf('vpcId')}: the service's subnets in it`);
  if (given('vpcId') && ok('gateway') && a.gateway && ok('gatewaySubnets') && !a.gatewaySubnets)
    problem('gatewaySubnets', `is required with ${optionOf('vpcId')} and the gateway: its public subnets`);
  if (given('vpcId') && ok('environmentType') && a.environmentType === 'single-instance')
    problem(
      'vpcId',
      `places load balancers; a single instance has none: use ${optionOf('environmentType')} load-balanced`,
    );
  if (given('vpcId') && ok('gateway') && !a.gateway)
    problem('vpcId', `makes the service's load balancer internal for its gateway: add ${optionOf('gateway')}`);
  for (const key of ['serviceSubnets', 'gatewaySubnets', 'gatewaySecurityGroup'] as const)
    if (given(key) && ok('vpcId') && !a.vpcId) problem(key, `only means something with ${optionOf('vpcId')}`);
  if (given('certificateArn') && ok('gateway', 'vpcId', 'serviceDomain') && a.gateway && !a.vpcId && !a.serviceDomain)
    problem(
      'serviceDomain',
      `is required with the gateway and ${optionOf('certificateArn')} but no ${optionOf('vpcId')}: the gateway reaches the service over the internet, so over HTTPS, at a name the certificate covers (or give a VPC: the hop is then internal)`,
    );
  if (
    given('serviceDomain') &&
    ok('gateway', 'vpcId', 'certificateArn') &&
    (!a.gateway || a.vpcId || !a.certificateArn)
  )
    problem(
      'serviceDomain',
      `only means something with the gateway and ${optionOf('certificateArn')}, without ${optionOf('vpcId')}`,
    );
  if (ok('dataset') && a.dataset === 'csv') {
    if (!a.csvPath) problem('csvPath', 'is required when the dataset is csv: give the path of your CSV file');
    else if (ok('csvPath') && !(a.csvPath as string).toLowerCase().endsWith('.csv'))
      problem('csvPath', 'must name a .csv file');
    if (!a.targetColumn) problem('targetColumn', 'is required when the dataset is csv: name the column to predict');
  } else if (ok('dataset')) {
    // Given but unused, a CSV would sit in .yo-rc.json while the model trains on other data.
    for (const key of ['csvPath', 'targetColumn'] as const)
      if (a[key] !== undefined)
        problem(
          key,
          `is for your own CSV, but ${optionOf('dataset')} is ${a.dataset}: leave out ${optionOf(key)} to train on ${a.dataset}, or give ${optionOf('dataset')} csv`,
        );
  }
  return out;
}

/**
 * One answer in the context of the others given so far (for a prompt's validate): true, or the message saying what
 * to fix. The same checks as resolveAnswers, so a prompt accepts exactly what the options accept.
 */
export function validateAnswer(
  key: AnswerKey,
  value: unknown,
  context: Record<string, unknown> = {},
  options: ResolveOptions = {},
): true | string {
  const known = Object.fromEntries(Object.entries(context).filter(([k]) => RECORDS.has(k as AnswerKey)));
  const resolution = resolveAnswers({ ...known, [key]: value }, options);
  if (resolution.ok) return true;
  const own = resolution.problems.find((p) => p.key === key);
  return own ? own.message : true;
}

/**
 * Every answer as the defaults make it: the one given where it is valid on its own, else the record's default, which
 * may derive from the answers before it (so arm64 gets a Graviton type, the legacy platform Python 3.6).
 */
export function defaultAnswers(given: RawAnswers): Answers {
  const raw = coerceAnswers(given);
  const answers: Record<string, unknown> = {};
  for (const r of ANSWER_RECORDS) {
    const valid = raw[r.key] !== undefined && r.schema.safeParse(raw[r.key]).success;
    answers[r.key] = valid
      ? raw[r.key]
      : typeof r.default === 'function'
        ? r.default(answers as Answers, raw)
        : r.default;
  }
  return answers as Answers;
}

/** The answers given so far over the defaults they imply: what a prompt's default, choices and `when` see. */
export function answersSoFar(given: RawAnswers): Answers {
  const coerced = coerceAnswers(given);
  return { ...defaultAnswers(coerced), ...coerced } as Answers;
}

const YES = ['true', 'yes', 'y', '1'];
const NO = ['false', 'no', 'n', '0'];

/** Strings from the command line or a prompt become the types the schema expects; unknown keys are kept for the error. */
export function coerceAnswers(raw: Record<string, unknown>): RawAnswers {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const record = RECORDS.get(key as AnswerKey);
    if (record?.type === 'number' && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
      out[key] = Number(value);
    else if (record?.type === 'confirm' && typeof value === 'string')
      out[key] = YES.includes(value.toLowerCase()) ? true : NO.includes(value.toLowerCase()) ? false : value;
    else out[key] = record?.coerce ? record.coerce(value) : value;
  }
  return out;
}

export interface AnswerProblem {
  key: string;
  option: string;
  message: string;
}

export type Resolution = { ok: true; answers: Answers } | { ok: false; problems: AnswerProblem[] };

/** A choice answer that is not among the choices that fit the other answers, said in words, with the nearest one. */
function choiceProblem(record: AnswerRecord, merged: Answers): string | undefined {
  const value = (merged as Record<string, unknown>)[record.key];
  const choices = record.choices!(merged).map((c) => c.value);
  if (choices.includes(String(value))) return undefined;
  const noun = record.choiceNoun?.(merged) ?? 'one of the choices';
  return `${String(value)} is not ${noun}: use one of ${choices.join(', ')}${didYouMean(String(value), choices)}`;
}

export interface ResolveOptions {
  /** Where relative paths are: given, the answers' `check`s look at the disk (the CSV and its columns). */
  cwd?: string;
}

/** given answers + defaults -> validated answers, or every problem at once (one per answer). */
export function resolveAnswers(given: Record<string, unknown>, { cwd }: ResolveOptions = {}): Resolution {
  const coerced = coerceAnswers(given);
  const merged: Record<string, unknown> = answersSoFar(coerced);
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
      add(
        key,
        option
          ? `is the option's name: the answer is called ${option}`
          : `is not an answer this generator knows${didYouMean(key, [...RECORDS.keys(), ...options])} (known: ${[...RECORDS.keys()].join(', ')})`,
      );
    }
  }
  const parsed = AnswersObject.safeParse(merged);
  const issues = parsed.success ? [] : parsed.error.issues;
  const zodFailed = new Set(issues.map((i) => String(i.path[0] ?? '')));
  // Choices first: "ridge is not a classification estimator: use one of ..." says more than the enum's whole list.
  for (const record of ANSWER_RECORDS) {
    if (!record.choices || (record.dependsOn ?? []).some((k) => zodFailed.has(k))) continue;
    const message = choiceProblem(record, merged as Answers);
    if (message) add(record.key, message);
  }
  for (const issue of issues) add(String(issue.path[0] ?? ''), issue.message);
  for (const p of crossAnswerProblems(merged, (key) => !failed.has(key))) add(p.key, p.message);
  if (cwd !== undefined) {
    for (const record of ANSWER_RECORDS) {
      const value = merged[record.key];
      if (!record.check || value === undefined || failed.has(record.key)) continue;
      if ((record.dependsOn ?? []).some((k) => failed.has(k)) || !(record.when?.(merged as Answers) ?? true)) continue;
      const message = record.check(value, merged as Answers, cwd);
      if (message) add(record.key, message);
    }
  }
  if (parsed.success && problems.length === 0) return { ok: true, answers: parsed.data };
  return { ok: false, problems };
}

/**
 * Each given answer on its own (its rule, and what the disk says of it), before any question is asked: what no later
 * answer could fix, said before the user answers the rest. The rules between answers wait for all of them.
 */
export function answerProblems(given: RawAnswers, options: ResolveOptions = {}): AnswerProblem[] {
  const coerced = coerceAnswers(given);
  const soFar = answersSoFar(coerced);
  const problems: AnswerProblem[] = [];
  for (const [key, value] of Object.entries(coerced)) {
    const record = RECORDS.get(key as AnswerKey);
    if (!record) continue; // named by resolveAnswers, with the nearest known answer
    const parsed = record.schema.safeParse(value);
    const message = parsed.success
      ? options.cwd === undefined
        ? undefined
        : record.check?.(value, soFar, options.cwd)
      : parsed.error.issues[0]?.message;
    if (message) problems.push({ key, option: record.option, message });
  }
  return problems;
}

/**
 * Stored answers with a CSV the dataset does not use (older versions kept `--csv` without `--dataset csv` and trained
 * on iris) lose it, so they resolve again: the project never used that file.
 */
export function forgetUnusedCsv<T extends Record<string, unknown>>(answers: T): T {
  if (answers.dataset === undefined || answers.dataset === 'csv') return answers;
  const { csvPath: _csv, targetColumn: _target, ...rest } = answers;
  return rest as T;
}

export function formatProblems(problems: AnswerProblem[]): string {
  const lines = problems.map((p) => `  --${p.option}: ${p.message}`);
  return `The answers have ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written. Fix:\n${lines.join('\n')}`;
}
