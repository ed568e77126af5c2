import { CONTRACT, detail, errorDetail, ERROR_KEYS, PROBLEM_KINDS } from '../contract.js';
import { outputsOf, publicSchema, type FeatureSpec, type ModelSchema } from './load.js';

// Emits plain TypeScript (no imports), so the same file serves the gateway and can be copied into any frontend.
// Besides the types, two constants the client package works from at run time: SCHEMA (the public part of
// schema.json a form needs) and RULES (contract.json's limits and sentences its validator applies).

const literal = (value: string | number | boolean) => JSON.stringify(value);
const key = (name: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name));

function featureType(feature: FeatureSpec): string {
  const base =
    feature.type === 'category'
      ? feature.categories.map(literal).join(' | ')
      : feature.type === 'boolean'
        ? 'boolean'
        : feature.type === 'number' || feature.type === 'integer'
          ? 'number'
          : 'string';
  return feature.nullable ? `${base} | null` : base;
}

function featureDoc(feature: FeatureSpec): string {
  const parts = [
    {
      integer: 'A whole number.',
      number: 'A finite number.',
      category: 'One of the categories, compared exactly.',
      text: `Free text, at most ${feature.type === 'text' ? feature.maxLength : 0} characters (code points).`,
      boolean: 'true or false.',
      date: 'A date, YYYY-MM-DD.',
      datetime:
        'A date-time, YYYY-MM-DDTHH:MM:SS with an optional fraction and offset (Z or +HH:MM); without an offset it is UTC.',
    }[feature.type],
  ];
  if (
    (feature.type === 'number' ||
      feature.type === 'integer' ||
      feature.type === 'date' ||
      feature.type === 'datetime') &&
    feature.observedMin !== undefined &&
    feature.observedMax !== undefined
  ) {
    parts.push(`Training data: ${feature.observedMin} to ${feature.observedMax} (not enforced).`);
  }
  if (feature.nullable) parts.push('null is allowed: the model imputes it.');
  return parts.join(' ');
}

/** The answer of this model's task (docs/contract.md, "Answers"), as the members of PredictionResponse. */
function responseMembers(schema: ModelSchema): string[] {
  const outputs = outputsOf(schema);
  const { target } = schema;
  if (target.type === 'category')
    return [
      '  /** predictions[i] is the label of instances[i]. */',
      '  predictions: Prediction[];',
      ...(outputs.includes('probabilities')
        ? ['  /** probabilities[i][j] is the probability of classes[j] for row i. */', '  probabilities?: number[][];']
        : []),
      ...(outputs.includes('scores')
        ? [
            '  /** scores[i][j] is the decision score of classes[j] for row i; the label has the highest. */',
            '  scores?: number[][];',
          ]
        : []),
      '  classes?: Prediction[];',
    ];
  if (target.type === 'outlier')
    return [
      '  /** predictions[i] is 1 when instances[i] is an inlier, -1 when it is an outlier. */',
      '  predictions: Prediction[];',
      ...(outputs.includes('scores')
        ? ['  /** scores[i] is the decision score of row i: negative for outliers. */', '  scores?: number[];']
        : []),
    ];
  return ['  /** predictions[i] belongs to instances[i]. */', '  predictions: Prediction[];'];
}

/**
 * What a frontend needs of schema.json at run time: a part of what GET /v1/schema serves (publicSchema), so the
 * package tells no more than the gateway does: no training metrics, library versions or artifact digests.
 */
export function runtimeSchema(schema: ModelSchema): Record<string, unknown> {
  const { schemaVersion, model, features, target, limits } = publicSchema(schema);
  return {
    schemaVersion,
    model: { name: model.name, version: model.version, task: model.task },
    features: features.map((f) => {
      const out: Record<string, unknown> = { name: f.name, type: f.type, nullable: f.nullable };
      if (f.type === 'category') out['categories'] = f.categories;
      if (f.type === 'text') out['maxLength'] = f.maxLength;
      if (f.type !== 'category' && f.type !== 'text' && f.type !== 'boolean') {
        if (f.observedMin !== undefined) out['observedMin'] = f.observedMin;
        if (f.observedMax !== undefined) out['observedMax'] = f.observedMax;
      }
      return out;
    }),
    target: {
      name: target.name,
      type: target.type,
      ...(target.type === 'category' ? { classes: target.classes } : {}),
      ...(target.type === 'cluster' && target.clusters !== undefined ? { clusters: target.clusters } : {}),
      // The per-row members an answer carries beyond predictions, as served (so the mock answers in the model's shape).
      ...((target.type === 'category' || target.type === 'outlier') && target.outputs !== undefined
        ? { outputs: target.outputs }
        : {}),
    },
    limits: { maxRows: limits.maxRows, maxBodyBytes: limits.maxBodyBytes },
  };
}

/** contract.json's rules as the client applies them: sentences with the contract's own limits already filled in. */
export function runtimeRules(): Record<string, unknown> {
  return {
    typePrefix: CONTRACT.typePrefix,
    maxMagnitude: CONTRACT.maxMagnitude,
    maxInteger: CONTRACT.maxInteger,
    maxErrors: CONTRACT.maxErrors,
    maxListedCategories: CONTRACT.maxListedCategories,
    maxEchoedNameLength: CONTRACT.maxEchoedNameLength,
    minYear: CONTRACT.minYear,
    maxYear: CONTRACT.maxYear,
    problems: Object.fromEntries(PROBLEM_KINDS.map((kind) => [kind, CONTRACT.problems[kind]])),
    validation: {
      one: detail('validation-error.one'),
      many: detail('validation-error.many'),
      capped: detail('validation-error.capped'),
    },
    errors: Object.fromEntries(ERROR_KEYS.map((key) => [key, errorDetail(key)])),
    // The 413s the client refuses before sending; {maxBodyBytes} and {maxRows} are SCHEMA's limits.
    details: { 'body-too-large': detail('body-too-large'), 'too-many-members': detail('too-many-members') },
  };
}

export function generateTypes(schema: ModelSchema): string {
  const { model, target } = schema;
  const label =
    target.type === 'category'
      ? target.classes.map(literal).join(' | ')
      : target.type === 'outlier'
        ? '1 | -1'
        : 'number';
  const lines = [
    `// Generated by \`npm run schema:sync\` from schema.json of model ${model.name} version ${model.version}. Do not edit.`,
    '',
    `export const MODEL = { name: ${literal(model.name)}, version: ${literal(model.version)}, task: ${literal(model.task)} } as const;`,
    '',
    `export const FEATURE_NAMES = [${schema.features.map((f) => literal(f.name)).join(', ')}] as const;`,
    '',
    `export const MAX_ROWS = ${schema.limits.maxRows};`,
    '',
    'export type FeatureName = (typeof FEATURE_NAMES)[number];',
    '',
    '/** The model at run time: features (type, nullability, categories, maxLength, training ranges), target, limits. */',
    `export const SCHEMA = ${JSON.stringify(runtimeSchema(schema), null, 2)} as const;`,
    '',
    "/** contract.json's limits and sentences, which the client's validator applies exactly as the gateway does. */",
    `export const RULES = ${JSON.stringify(runtimeRules(), null, 2)} as const;`,
    '',
    `/** One row of features, in training column order. Every key is required. */`,
    'export interface FeatureRow {',
    ...schema.features.flatMap((f) => [`  /** ${featureDoc(f)} */`, `  ${key(f.name)}: ${featureType(f)};`]),
    '}',
    '',
    'export interface PredictRequest {',
    `  /** 1 to ${schema.limits.maxRows} rows. */`,
    '  instances: FeatureRow[];',
    '}',
    '',
    {
      category: `/** A label of ${target.name}. */`,
      number: `/** A predicted value of ${target.name}. */`,
      cluster: `/** The cluster of a row, a whole number from 0. */`,
      outlier: '/** 1 for an inlier, -1 for an outlier. */',
    }[target.type],
    `export type Prediction = ${label};`,
    '',
    'export interface PredictionResponse {',
    ...responseMembers(schema),
    '  model: { name: string; version: string };',
    '}',
    '',
  ];
  return lines.join('\n');
}
