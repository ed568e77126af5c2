import { z } from 'zod';
import { CONTRACT } from '../contract.js';
import type { FeatureSpec, ModelSchema } from './load.js';
import { createIssueMapper } from './issues.js';
import type { FieldError } from '../problems.js';

export type FeatureValue = number | string | null;
export type FeatureRow = Record<string, FeatureValue>;

export interface PredictionBody {
  predictions: Array<string | number>;
  probabilities?: number[][];
  classes?: Array<string | number>;
  model: { name: string; version: string };
}

export interface Validators {
  schema: ModelSchema;
  row: z.ZodType<FeatureRow>;
  request: z.ZodType<{ instances: FeatureRow[] }>;
  response: z.ZodType<PredictionBody>;
  /** Named schemas for the OpenAPI document, so the spec and the validator are the same objects. */
  registry: z.core.$ZodRegistry<Meta>;
  /** zod has no JSON-schema-visible "whole number" check without a safe-integer range; these get `type: integer`. */
  integerSchemas: ReadonlySet<z.ZodType>;
  validateRequest(body: unknown): { ok: true; rows: FeatureRow[] } | { ok: false; errors: FieldError[] };
}

type Meta = { id?: string; description?: string; examples?: unknown[] };

/**
 * A number within the contract's magnitude (float32's range, where scikit-learn's tree models compute; beyond it
 * a value becomes infinity, so both servers call it not_finite). As min/max rather than a refine, so the OpenAPI
 * document states the bound and a schema-driven fuzzer never calls an out-of-range number valid.
 */
const boundedNumber = () => z.number().min(-CONTRACT.maxMagnitude).max(CONTRACT.maxMagnitude);

function featureSchema(feature: FeatureSpec, integers: Set<z.ZodType>, registry: z.core.$ZodRegistry<Meta>): z.ZodType {
  let base: z.ZodType;
  if (feature.type === 'category') {
    base = z.enum(feature.categories as [string, ...string[]]);
  } else if (feature.type === 'integer') {
    // The contract says any whole number counts (3.0 too, 1e20 too), so not z.int() with its safe-integer bounds.
    base = boundedNumber().refine(Number.isInteger);
    integers.add(base);
  } else {
    // zod 4 numbers reject Infinity/NaN already; JSON's 1e400 parses to Infinity and must fail as not_finite.
    base = boundedNumber();
  }
  const schema = feature.nullable ? base.nullable() : base;
  // Metadata lives in this model's registry, not zod's global one, so apps for different models never mix.
  registry.add(schema, { description: describeFeature(feature) });
  return schema;
}

function describeFeature(feature: FeatureSpec): string {
  const parts: string[] = [feature.type];
  if (feature.type !== 'category' && feature.observedMin !== undefined && feature.observedMax !== undefined) {
    parts.push(`observed in training from ${feature.observedMin} to ${feature.observedMax} (not enforced)`);
  }
  if (feature.nullable) parts.push('may be null (imputed by the model)');
  return parts.join('; ');
}

/** A row that passes validation; the docs page and the OpenAPI example use it. */
export function exampleRow(schema: ModelSchema): FeatureRow {
  const row: FeatureRow = {};
  for (const feature of schema.features) {
    if (feature.type === 'category') {
      row[feature.name] = feature.categories[0] as string;
    } else {
      const lo = feature.observedMin ?? 0;
      const hi = feature.observedMax ?? lo;
      const mid = (lo + hi) / 2;
      row[feature.name] = feature.type === 'integer' ? Math.round(mid) : Math.round(mid * 1000) / 1000;
    }
  }
  return row;
}

export function buildValidators(schema: ModelSchema): Validators {
  const integers = new Set<z.ZodType>();
  const registry = z.registry<Meta>();
  const shape: Record<string, z.ZodType> = {};
  for (const feature of schema.features) shape[feature.name] = featureSchema(feature, integers, registry);

  const row = z.strictObject(shape) as unknown as z.ZodType<FeatureRow>;
  registry.add(row, {
    id: 'FeatureRow',
    description: `One row of features for model ${schema.model.name}, in training column order. Every key is required.`,
    examples: [exampleRow(schema)],
  });
  const request = z.strictObject({
    instances: z.array(row).min(1).max(schema.limits.maxRows),
  });
  registry.add(request, { id: 'PredictRequest', description: `1 to ${schema.limits.maxRows} rows.` });
  const issuesToFieldErrors = createIssueMapper(schema);

  let label: z.ZodType<string | number>;
  if (schema.target.type === 'category') {
    const classes = schema.target.classes;
    if (classes.every((c): c is string => typeof c === 'string')) {
      label = z.enum(classes as [string, ...string[]]);
    } else {
      const literals = classes.map((c) => z.literal(c));
      label =
        literals.length === 1
          ? (literals[0] as z.ZodType<string | number>)
          : z.union(literals as unknown as [z.ZodType<string | number>, z.ZodType<string | number>]);
    }
  } else {
    label = z.number();
  }
  const modelRef = z.object({ name: z.string(), version: z.string() });
  const response = z.object({
    predictions: z.array(label),
    probabilities: z.array(z.array(z.number())).optional(),
    classes: z.array(label).optional(),
    model: modelRef,
  }) as unknown as z.ZodType<PredictionBody>;
  registry.add(response, {
    id: 'PredictResponse',
    description:
      schema.target.type === 'category'
        ? 'predictions[i] is the label of row i; probabilities[i][j] is the probability of classes[j] for row i.'
        : 'predictions[i] is the predicted value for row i.',
  });

  return {
    schema,
    row,
    request,
    response,
    registry,
    integerSchemas: integers,
    validateRequest(body) {
      const result = request.safeParse(body);
      if (result.success) return { ok: true, rows: result.data.instances };
      return { ok: false, errors: issuesToFieldErrors(result.error.issues, body) };
    },
  };
}
