import { readFileSync } from 'node:fs';
import { z } from 'zod';

// The file format of model/schema.json (docs/contract.md). Unknown members are tolerated so that a newer
// train.py can add documentation fields without breaking older gateways; schemaVersion guards real changes. Version 2
// added the feature types text, boolean, date and datetime, categories of whole numbers, features[].dtype, the
// model kinds clustering and outlier-detection and target.outputs; version 1 schemas are read too.
const finite = z.number().refine(Number.isFinite);
const name = z.string().min(1);
/** The pandas dtype the service builds the column in; the gateway only passes it on (in /v1/schema). */
const dtype = z.string().min(1).optional();

const NumericFeature = z.looseObject({
  name,
  type: z.enum(['number', 'integer']),
  nullable: z.boolean(),
  observedMin: finite.optional(),
  observedMax: finite.optional(),
  dtype,
});

/** Categories are all strings, or all whole numbers within JavaScript's exact integers (an integer-coded category). */
const CategoryFeature = z.looseObject({
  name,
  type: z.literal('category'),
  nullable: z.boolean(),
  categories: z.union([z.array(z.string()).min(1), z.array(z.number().int().refine(Number.isSafeInteger)).min(1)]),
  dtype,
});

const TextFeature = z.looseObject({
  name,
  type: z.literal('text'),
  nullable: z.boolean(),
  maxLength: z.number().int().min(1),
  dtype,
});

const BooleanFeature = z.looseObject({ name, type: z.literal('boolean'), nullable: z.boolean(), dtype });

const DateFeature = z.looseObject({
  name,
  type: z.enum(['date', 'datetime']),
  nullable: z.boolean(),
  observedMin: z.string().optional(),
  observedMax: z.string().optional(),
  dtype,
});

export const Feature = z.discriminatedUnion('type', [
  NumericFeature,
  CategoryFeature,
  TextFeature,
  BooleanFeature,
  DateFeature,
]);

/** A class label keeps the JSON type the model has: a string, a number or a boolean. */
const ClassLabel = z.union([z.string(), z.number(), z.boolean()]);
/** The per-row members of an answer beyond `predictions` (docs/contract.md, "Answers"). */
export const OUTPUTS = ['probabilities', 'scores'] as const;
export const TASKS = ['classification', 'regression', 'clustering', 'outlier-detection'] as const;
/** model.task -> target.type */
const TARGET_TYPES = {
  classification: 'category',
  regression: 'number',
  clustering: 'cluster',
  'outlier-detection': 'outlier',
} as const;

const SchemaVersion = z.union([z.literal(1), z.literal(2)]);
const Target = z.discriminatedUnion('type', [
  z.looseObject({
    name: z.string(),
    type: z.literal('category'),
    classes: z.array(ClassLabel).min(1),
    outputs: z.array(z.enum(OUTPUTS)).optional(),
  }),
  z.looseObject({ name: z.string(), type: z.literal('number') }),
  z.looseObject({ name: z.string(), type: z.literal('cluster'), clusters: z.number().int().min(1).optional() }),
  z.looseObject({ name: z.string(), type: z.literal('outlier'), outputs: z.array(z.literal('scores')).optional() }),
]);
const Limits = z.looseObject({
  maxRows: z.number().int().min(1),
  maxBodyBytes: z.number().int().min(64),
});

export const ModelSchemaFile = z
  .object({
    schemaVersion: SchemaVersion,
    model: z.looseObject({
      name: z.string().min(1),
      version: z.string().min(1),
      task: z.enum(TASKS),
    }),
    features: z.array(Feature).min(1),
    target: Target,
    limits: Limits,
  })
  .loose()
  .superRefine((schema, ctx) => {
    const seen = new Set<string>();
    schema.features.forEach((feature, i) => {
      if (seen.has(feature.name))
        ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: 'duplicate feature name' });
      seen.add(feature.name);
      const v1 = ['number', 'integer', 'category'].includes(feature.type);
      if (schema.schemaVersion === 1 && (!v1 || (feature.type === 'category' && !isStringCategory(feature))))
        ctx.addIssue({
          code: 'custom',
          path: ['features', i, 'type'],
          message: 'schemaVersion 1 has number, integer and string category features only',
        });
    });
    if (TARGET_TYPES[schema.model.task] !== schema.target.type) {
      ctx.addIssue({
        code: 'custom',
        path: ['target', 'type'],
        message: `a ${schema.model.task} model needs a target of type ${TARGET_TYPES[schema.model.task]}`,
      });
    }
    if (schema.schemaVersion === 1 && !['classification', 'regression'].includes(schema.model.task))
      ctx.addIssue({ code: 'custom', path: ['model', 'task'], message: 'schemaVersion 1 has no such task' });
  });

const isStringCategory = (feature: { categories?: unknown[] }) =>
  (feature.categories ?? []).every((c) => typeof c === 'string');

export type ModelSchema = z.infer<typeof ModelSchemaFile>;

/**
 * What GET /v1/schema tells a caller (and the OpenAPI document describes): the model's name, version and task, its
 * features, target and limits. Never how it was made (library versions, training metrics and times, the artifact's
 * format and digest): those stay in schema.json, for the people who deploy it. The Flask service serves the same part.
 */
export const PublicModelSchema = z.object({
  schemaVersion: SchemaVersion,
  model: z.strictObject({
    name: z.string().min(1),
    version: z.string().min(1),
    task: z.enum(TASKS),
  }),
  features: z.array(Feature).min(1),
  target: Target,
  limits: Limits,
});
export type PublicModelSchema = z.infer<typeof PublicModelSchema>;

export function publicSchema(schema: ModelSchema): PublicModelSchema {
  const { name, version, task } = schema.model;
  return {
    schemaVersion: schema.schemaVersion,
    model: { name, version, task },
    features: schema.features,
    target: schema.target,
    limits: schema.limits,
  };
}
export type FeatureSpec = z.infer<typeof Feature>;
export type Task = (typeof TASKS)[number];
export type Output = (typeof OUTPUTS)[number];

/** A category of whole numbers (an integer-coded category): its categories are numbers, not strings. */
export const isCoded = (feature: FeatureSpec): boolean =>
  feature.type === 'category' && feature.categories.every((c) => typeof c === 'number');

/**
 * The per-row members the answers of this model carry beyond `predictions`: target.outputs, or what version 1
 * implied (a classifier answers probabilities), in the order the service writes them.
 */
export function outputsOf(schema: ModelSchema): Output[] {
  const target = schema.target;
  const declared = target.type === 'category' || target.type === 'outlier' ? target.outputs : undefined;
  const outputs: readonly Output[] =
    declared ?? (target.type === 'category' ? ['probabilities'] : target.type === 'outlier' ? ['scores'] : []);
  return OUTPUTS.filter((o) => outputs.includes(o));
}

export class SchemaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaFileError';
  }
}

export function parseModelSchema(json: unknown, source = 'schema.json'): ModelSchema {
  const result = ModelSchemaFile.safeParse(json);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(document)'}: ${issue.message}`);
    throw new SchemaFileError(`${source} does not follow the schema.json contract:\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadModelSchema(path: string): ModelSchema {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SchemaFileError(`cannot read the model schema at ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SchemaFileError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseModelSchema(json, path);
}
