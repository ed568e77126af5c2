import { z } from 'zod';
import { CONTRACT } from '../contract.js';
import { isCoded, outputsOf, type FeatureSpec, type ModelSchema } from './load.js';
import { createIssueMapper } from './issues.js';
import { codePointLength, DATE_PATTERN, DATETIME_PATTERN, isDate, isDatetime } from './formats.js';
import type { FieldError } from '../problems.js';
import { moreMembersThan } from '../shared/members.js';

export type FeatureValue = number | string | boolean | null;
export type FeatureRow = Record<string, FeatureValue>;
/** A class label keeps the JSON type the model has. */
export type Label = string | number | boolean;

/** An answer of the service (docs/contract.md, "Answers"): which members it has depends on the model's task. */
export interface PredictionBody {
  predictions: Label[];
  probabilities?: number[][];
  /** number[][] (one per class) for a classifier, number[] for an outlier detector. */
  scores?: Array<number[] | number>;
  classes?: Label[];
  model: { name: string; version: string };
}

export interface Validators {
  schema: ModelSchema;
  row: z.ZodType<FeatureRow>;
  request: z.ZodType<{ instances: FeatureRow[] }>;
  response: z.ZodType<PredictionBody>;
  /** Named schemas for the OpenAPI document, so the spec and the validator are the same objects. */
  registry: z.core.$ZodRegistry<Meta>;
  /**
   * What JSON Schema says of some validators that zod cannot tell from a refinement: `type: integer` for a whole
   * number (zod has no JSON-schema-visible whole-number check without a safe-integer range), `maxLength` in code
   * points for a text, `format`/`pattern` for dates. The OpenAPI document merges these in.
   */
  jsonSchema: ReadonlyMap<z.ZodType, Record<string, unknown>>;
  validateRequest(body: unknown): { ok: true; rows: FeatureRow[] } | { ok: false; errors: FieldError[] };
}

type Meta = { id?: string; description?: string; examples?: unknown[]; 'x-feature-type'?: string };

/**
 * A number within the contract's magnitude (float32's range, where scikit-learn's tree models compute; beyond it
 * a value becomes infinity, so both servers call it not_finite). As min/max rather than a refine, so the OpenAPI
 * document states the bound and a schema-driven fuzzer never calls an out-of-range number valid.
 */
const boundedNumber = () => z.number().min(-CONTRACT.maxMagnitude).max(CONTRACT.maxMagnitude);

function featureSchema(
  feature: FeatureSpec,
  jsonSchema: Map<z.ZodType, Record<string, unknown>>,
  registry: z.core.$ZodRegistry<Meta>,
): z.ZodType {
  let base: z.ZodType;
  switch (feature.type) {
    case 'category':
      base = isCoded(feature)
        ? // 2 and 2.0 are one JSON number; true is not 1 (a literal compares with ===).
          z.literal(feature.categories as [number, ...number[]])
        : z.enum(feature.categories as [string, ...string[]]);
      break;
    case 'integer': {
      // Any whole number within contract.json's maxInteger (3.0 too: JSON does not tell 3.0 from 3), the numbers a
      // double holds exactly; not z.int(), whose refusal of 1e400 would not be the contract's not_finite.
      const most = CONTRACT.maxInteger;
      base = boundedNumber().refine((value) => Number.isInteger(value) && Math.abs(value) <= most);
      jsonSchema.set(base, { type: 'integer', minimum: -most, maximum: most });
      break;
    }
    case 'number':
      // zod 4 numbers reject Infinity/NaN already; JSON's 1e400 parses to Infinity and must fail as not_finite.
      base = boundedNumber();
      break;
    case 'text': {
      // Code points, as JSON Schema's maxLength counts them, not z.string().max()'s UTF-16 units.
      const maxLength = feature.maxLength;
      base = z.string().refine((value) => codePointLength(value) <= maxLength);
      jsonSchema.set(base, { type: 'string', maxLength });
      break;
    }
    case 'boolean':
      base = z.boolean();
      break;
    case 'date':
      base = z.string().refine(isDate);
      jsonSchema.set(base, { type: 'string', format: 'date', pattern: DATE_PATTERN });
      break;
    case 'datetime':
      // Not JSON Schema's format "date-time": RFC 3339 requires the offset, the contract does not.
      base = z.string().refine(isDatetime);
      jsonSchema.set(base, { type: 'string', pattern: DATETIME_PATTERN });
      break;
  }
  const schema = feature.nullable ? base.nullable() : base;
  // Metadata lives in this model's registry, not zod's global one, so apps for different models never mix.
  registry.add(schema, { description: describeFeature(feature), 'x-feature-type': feature.type });
  return schema;
}

function describeFeature(feature: FeatureSpec): string {
  const parts: string[] = [feature.type];
  if (feature.type === 'category' && isCoded(feature)) parts.push('one of the whole numbers listed');
  if (feature.type === 'text') parts.push(`any string of at most ${feature.maxLength} characters (code points)`);
  if (feature.type === 'date') parts.push(`YYYY-MM-DD, in the years ${CONTRACT.minYear} to ${CONTRACT.maxYear}`);
  if (feature.type === 'datetime')
    parts.push(
      `YYYY-MM-DDTHH:MM:SS[.fraction][Z or +HH:MM], in the years ${CONTRACT.minYear} to ${CONTRACT.maxYear}; with an offset converted to UTC, without one taken as UTC`,
    );
  if (
    (feature.type === 'number' ||
      feature.type === 'integer' ||
      feature.type === 'date' ||
      feature.type === 'datetime') &&
    feature.observedMin !== undefined &&
    feature.observedMax !== undefined
  ) {
    parts.push(`observed in training from ${feature.observedMin} to ${feature.observedMax} (not enforced)`);
  }
  if (feature.nullable) parts.push('may be null (imputed by the model)');
  return parts.join('; ');
}

/** A row that passes validation; the docs page and the OpenAPI example use it. */
export function exampleRow(schema: ModelSchema): FeatureRow {
  const row: FeatureRow = {};
  for (const feature of schema.features) {
    switch (feature.type) {
      case 'category':
        row[feature.name] = feature.categories[0] as string | number;
        break;
      case 'text':
        row[feature.name] = 'example';
        break;
      case 'boolean':
        row[feature.name] = false;
        break;
      case 'date':
        row[feature.name] = feature.observedMin ?? '1970-01-01';
        break;
      case 'datetime':
        row[feature.name] = feature.observedMin ?? '1970-01-01T00:00:00';
        break;
      default: {
        const lo = feature.observedMin ?? 0;
        const hi = feature.observedMax ?? lo;
        const mid = (lo + hi) / 2;
        row[feature.name] = feature.type === 'integer' ? Math.round(mid) : Math.round(mid * 1000) / 1000;
      }
    }
  }
  return row;
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

/** One label of the model's classes: their literals (strings, numbers, booleans keep their JSON type). */
function labelSchema(classes: readonly Label[]): z.ZodType<Label> {
  if (classes.every((c): c is string => typeof c === 'string')) return z.enum(classes as [string, ...string[]]);
  return z.literal(classes as [Label, ...Label[]]) as z.ZodType<Label>;
}

/** The answer of this model, as docs/contract.md's "Answers" table gives it for its task and outputs. */
function responseSchema(schema: ModelSchema): { response: z.ZodType<PredictionBody>; description: string } {
  const modelRef = z.object({ name: z.string(), version: z.string() });
  const outputs = outputsOf(schema);
  const { target } = schema;
  if (target.type === 'category') {
    const label = labelSchema(target.classes);
    const perClass = z.array(z.array(z.number()));
    return {
      // What the service adds to predictions is optional, as in version 1: an after_predict hook answers for it.
      response: z.object({
        predictions: z.array(label),
        ...(outputs.includes('probabilities') ? { probabilities: perClass.optional() } : {}),
        ...(outputs.includes('scores') ? { scores: perClass.optional() } : {}),
        classes: z.array(label).optional(),
        model: modelRef,
      }) as unknown as z.ZodType<PredictionBody>,
      description: `${[
        'predictions[i] is the label of row i',
        ...(outputs.includes('probabilities')
          ? ['probabilities[i][j] is the probability of classes[j] for row i']
          : []),
        ...(outputs.includes('scores')
          ? [
              'scores[i][j] is the decision score of classes[j] for row i; the label has the highest (with two classes, [-s, s] for the score s of classes[1])',
            ]
          : []),
      ].join('; ')}.`,
    };
  }
  if (target.type === 'cluster')
    return {
      response: z.object({
        predictions: z.array(z.number().int().min(0)),
        model: modelRef,
      }) as unknown as z.ZodType<PredictionBody>,
      description: `predictions[i] is the cluster of row i, a whole number from 0${target.clusters ? ` to ${target.clusters - 1}` : ''}.`,
    };
  if (target.type === 'outlier')
    return {
      response: z.object({
        predictions: z.array(z.literal([1, -1])),
        ...(outputs.includes('scores') ? { scores: z.array(z.number()).optional() } : {}),
        model: modelRef,
      }) as unknown as z.ZodType<PredictionBody>,
      description:
        'predictions[i] is 1 when row i is an inlier and -1 when it is an outlier; scores[i] is its decision score, negative for outliers (the lower, the more abnormal).',
    };
  return {
    response: z.object({ predictions: z.array(z.number()), model: modelRef }) as unknown as z.ZodType<PredictionBody>,
    description: 'predictions[i] is the predicted value for row i.',
  };
}

export function buildValidators(schema: ModelSchema): Validators {
  const jsonSchema = new Map<z.ZodType, Record<string, unknown>>();
  const registry = z.registry<Meta>();
  const shape: Record<string, z.ZodType> = {};
  for (const feature of schema.features) shape[feature.name] = featureSchema(feature, jsonSchema, registry);

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

  const { response, description } = responseSchema(schema);
  registry.add(response, { id: 'PredictResponse', description });

  return {
    schema,
    row,
    request,
    response,
    registry,
    jsonSchema,
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
