import { readFileSync } from 'node:fs';
import { z } from 'zod';

// The file format of model/schema.json (docs/contract.md). Unknown members are tolerated so that a newer
// train.py can add documentation fields without breaking older gateways; schemaVersion guards real changes.
const finite = z.number().refine(Number.isFinite);

const NumericFeature = z.looseObject({
  name: z.string().min(1),
  type: z.enum(['number', 'integer']),
  nullable: z.boolean(),
  observedMin: finite.optional(),
  observedMax: finite.optional(),
});

const CategoryFeature = z.looseObject({
  name: z.string().min(1),
  type: z.literal('category'),
  nullable: z.boolean(),
  categories: z.array(z.string()).min(1),
});

export const Feature = z.discriminatedUnion('type', [NumericFeature, CategoryFeature]);

const ClassLabel = z.union([z.string(), z.number()]);

export const ModelSchemaFile = z
  .object({
    schemaVersion: z.literal(1),
    model: z.looseObject({
      name: z.string().min(1),
      version: z.string().min(1),
      task: z.enum(['classification', 'regression']),
    }),
    features: z.array(Feature).min(1),
    target: z.discriminatedUnion('type', [
      z.looseObject({ name: z.string(), type: z.literal('category'), classes: z.array(ClassLabel).min(1) }),
      z.looseObject({ name: z.string(), type: z.literal('number') }),
    ]),
    limits: z.looseObject({
      maxRows: z.number().int().min(1),
      maxBodyBytes: z.number().int().min(64),
    }),
  })
  .loose()
  .superRefine((schema, ctx) => {
    const seen = new Set<string>();
    schema.features.forEach((feature, i) => {
      if (seen.has(feature.name))
        ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: 'duplicate feature name' });
      seen.add(feature.name);
    });
    const classifier = schema.model.task === 'classification';
    if (classifier !== (schema.target.type === 'category')) {
      ctx.addIssue({
        code: 'custom',
        path: ['target', 'type'],
        message: 'classification needs a category target, regression a number target',
      });
    }
  });

export type ModelSchema = z.infer<typeof ModelSchemaFile>;

/**
 * What GET /v1/schema tells a caller (and the OpenAPI document describes): the model's name, version and task, its
 * features, target and limits. Never how it was made (library versions, training metrics and times, the artifact's
 * format and digest): those stay in schema.json, for the people who deploy it. The Flask service serves the same part.
 */
export const PublicModelSchema = z.object({
  schemaVersion: z.literal(1),
  model: z.strictObject({
    name: z.string().min(1),
    version: z.string().min(1),
    task: z.enum(['classification', 'regression']),
  }),
  features: z.array(Feature).min(1),
  target: z.discriminatedUnion('type', [
    z.looseObject({ name: z.string(), type: z.literal('category'), classes: z.array(ClassLabel).min(1) }),
    z.looseObject({ name: z.string(), type: z.literal('number') }),
  ]),
  limits: z.looseObject({ maxRows: z.number().int().min(1), maxBodyBytes: z.number().int().min(64) }),
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
