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

/** Whether a parsed JSON value has more than `limit` members (counted up to limit + 1: a huge object costs no more). */
function moreMembersThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let count = 0;
  for (const _name in value) if (++count > limit) return true;
  return false;
}

/**
 * Objects refused by their member count alone, before any member is validated (docs/contract.md, "Cheap refusals"):
 * the document when it has more than one member, else the rows with more members than the model has features.
 */
function oversizedObjects(body: unknown, features: number, maxRows: number): 'document' | number[] | undefined {
  if (moreMembersThan(body, 1)) return 'document';
  const rows = (body as { instances?: unknown } | null)?.instances;
  // Row counts are checked first, and with too many rows nothing is reported per row.
  if (!Array.isArray(rows) || rows.length === 0 || rows.length > maxRows) return undefined;
  const oversized: number[] = [];
  rows.forEach((row, i) => {
    if (moreMembersThan(row, features)) oversized.push(i);
  });
  return oversized.length > 0 ? oversized : undefined;
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
  const documentTooManyMembers = CONTRACT.errors['document.too_many_members'];
  const standIn = exampleRow(schema);

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
      const oversized = oversizedObjects(body, schema.features.length, schema.limits.maxRows);
      if (oversized === 'document')
        return { ok: false, errors: [{ pointer: '', code: 'too_many_members', detail: documentTooManyMembers }] };
      if (oversized) {
        // zod sees a valid row in place of each oversized one, so it reports the others' problems and never walks a
        // 90,000-member row; the oversized ones are reported by their count.
        const rows = [...(body as { instances: unknown[] }).instances];
        for (const i of oversized) rows[i] = standIn;
        const sanitized = { instances: rows };
        const result = request.safeParse(sanitized);
        return {
          ok: false,
          errors: issuesToFieldErrors(result.success ? [] : result.error.issues, sanitized, oversized),
        };
      }
      const result = request.safeParse(body);
      if (result.success) return { ok: true, rows: result.data.instances };
      return { ok: false, errors: issuesToFieldErrors(result.error.issues, body) };
    },
  };
}
