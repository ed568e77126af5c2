import type { z } from 'zod';
import type { FeatureSpec, ModelSchema } from './load.js';
import { toPointer, type FieldError } from '../problems.js';
import { MAX_MAGNITUDE } from './limits.js';

// zod's issue codes are about zod's schema types; the contract's codes are about the model's feature kinds.
// So the code is derived from *where* the issue is (document, instances, row, feature) and *what is there*,
// looked up in the submitted body. Details are fixed sentences and never contain the submitted value.

/** Every `errors[].code` the contract defines (docs/contract.md); the OpenAPI document lists these. */
export const ERROR_CODES = [
  'required',
  'unknown_field',
  'not_a_number',
  'not_finite',
  'not_an_integer',
  'not_a_string',
  'unknown_category',
  'not_nullable',
  'not_an_object',
  'not_an_array',
  'too_few_rows',
  'too_many_rows',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

function has(container: unknown, key: string | number): boolean {
  return typeof container === 'object' && container !== null && Object.prototype.hasOwnProperty.call(container, key);
}

function at(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = body;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function featureError(feature: FeatureSpec, present: boolean, value: unknown): { code: ErrorCode; detail: string } {
  if (!present) return { code: 'required', detail: 'is required' };
  if (value === null) return { code: 'not_nullable', detail: 'must not be null' };
  if (feature.type === 'category') {
    if (typeof value !== 'string') return { code: 'not_a_string', detail: 'must be a string' };
    return { code: 'unknown_category', detail: `must be one of: ${feature.categories.join(', ')}` };
  }
  if (typeof value !== 'number') return { code: 'not_a_number', detail: 'must be a number' };
  if (!Number.isFinite(value) || Math.abs(value) > MAX_MAGNITUDE) return { code: 'not_finite', detail: 'must be a finite number' };
  return { code: 'not_an_integer', detail: 'must be a whole number' };
}

export function issuesToFieldErrors(issues: readonly z.core.$ZodIssue[], body: unknown, schema: ModelSchema): FieldError[] {
  const features = new Map(schema.features.map((f) => [f.name, f]));
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const push = (path: ReadonlyArray<string | number>, code: ErrorCode, detail: string) => {
    const pointer = toPointer(path);
    if (seen.has(pointer + ' ' + code)) return;
    seen.add(pointer + ' ' + code);
    errors.push({ pointer, code, detail });
  };
  // zod runs the array's length checks on anything with a length, so "" or {"length": 0} would also get
  // too_few_rows (and a long string too_many_rows) next to not_an_array; the contract (and the Flask service) report
  // row counts only for an actual array.
  const instancesIsArray = Array.isArray(at(body, ['instances']));
  const tooMany = instancesIsArray && issues.some((i) => i.code === 'too_big' && i.path.length === 1 && i.path[0] === 'instances');

  for (const issue of issues) {
    const path = issue.path as Array<string | number>;
    // A request over the row limit has to be split anyway; per-row noise would only hide that.
    if (tooMany && path.length > 1) continue;

    if (issue.code === 'unrecognized_keys') {
      const inRow = path.length === 2;
      for (const key of issue.keys) {
        push([...path, key], 'unknown_field', inRow ? 'is not a feature of this model' : 'is not a member of the request');
      }
      continue;
    }
    if (path.length === 0) {
      push(path, 'not_an_object', 'must be a JSON object with an "instances" array');
    } else if (path.length === 1) {
      if (!has(body, 'instances')) push(path, 'required', 'is required');
      else if (!instancesIsArray) push(path, 'not_an_array', 'must be an array of rows');
      else if (issue.code === 'too_small') push(path, 'too_few_rows', 'must contain at least 1 row');
      else if (issue.code === 'too_big') push(path, 'too_many_rows', `must contain at most ${schema.limits.maxRows} rows`);
    } else if (path.length === 2) {
      push(path, 'not_an_object', 'must be an object of feature values');
    } else {
      const name = String(path[2]);
      const feature = features.get(name);
      if (!feature) continue; // unreachable: unknown keys are reported above
      const row = at(body, path.slice(0, 2));
      const { code, detail } = featureError(feature, has(row, name), at(body, path));
      push(path.slice(0, 3), code, detail);
    }
  }
  return errors;
}
