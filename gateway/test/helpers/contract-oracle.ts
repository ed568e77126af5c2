// An independent reading of the contract (docs/contract.md and the README's validation table), written without zod
// and without the gateway's issues.ts, so the fuzz tests compare two implementations instead of one with itself.
import type { ModelSchema } from '../../src/schema/load.js';

export interface ExpectedError {
  pointer: string;
  code: string;
  detail: string;
}

export const CONTRACT_CODES = new Set([
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
]);

/** Kind (type suffix) -> HTTP status, from the contract and the gateway's additions. */
export const PROBLEM_STATUS: Record<string, number> = {
  'malformed-json': 400,
  unauthorized: 401,
  'not-found': 404,
  'method-not-allowed': 405,
  'body-too-large': 413,
  'unsupported-media-type': 415,
  'validation-error': 422,
  'rate-limited': 429,
  'internal-error': 500,
  'upstream-error': 502,
  'upstream-unavailable': 503,
  'not-ready': 503,
  'upstream-timeout': 504,
};

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function pointer(...parts: Array<string | number>): string {
  return parts.map((p) => '/' + String(p).split('~').join('~0').split('/').join('~1')).join('');
}

function featureProblem(feature: ModelSchema['features'][number], row: Record<string, unknown>): Omit<ExpectedError, 'pointer'> | undefined {
  if (!own(row, feature.name)) return { code: 'required', detail: 'is required' };
  const value = row[feature.name];
  if (value === null) return feature.nullable ? undefined : { code: 'not_nullable', detail: 'must not be null' };
  if (feature.type === 'category') {
    if (typeof value !== 'string') return { code: 'not_a_string', detail: 'must be a string' };
    return feature.categories.includes(value) ? undefined : { code: 'unknown_category', detail: `must be one of: ${feature.categories.join(', ')}` };
  }
  if (typeof value !== 'number') return { code: 'not_a_number', detail: 'must be a number' };
  // The contract's limit: beyond float32's range (where tree models compute) is not finite.
  if (!Number.isFinite(value) || Math.abs(value) > 3.4028234663852886e38) return { code: 'not_finite', detail: 'must be a finite number' };
  if (feature.type === 'integer' && !Number.isInteger(value)) return { code: 'not_an_integer', detail: 'must be a whole number' };
  return undefined;
}

/** The errors[] the contract calls for, in the documented order; [] means the body is valid. */
export function expectedErrors(body: unknown, schema: ModelSchema): ExpectedError[] {
  if (!isObject(body)) return [{ pointer: '', code: 'not_an_object', detail: 'must be a JSON object with an "instances" array' }];
  const errors: ExpectedError[] = [];
  const names = new Set(schema.features.map((f) => f.name));
  if (!own(body, 'instances')) {
    errors.push({ pointer: '/instances', code: 'required', detail: 'is required' });
  } else if (!Array.isArray(body['instances'])) {
    errors.push({ pointer: '/instances', code: 'not_an_array', detail: 'must be an array of rows' });
  } else {
    const rows = body['instances'] as unknown[];
    if (rows.length === 0) errors.push({ pointer: '/instances', code: 'too_few_rows', detail: 'must contain at least 1 row' });
    else if (rows.length > schema.limits.maxRows) {
      errors.push({ pointer: '/instances', code: 'too_many_rows', detail: `must contain at most ${schema.limits.maxRows} rows` });
    } else {
      rows.forEach((row, i) => {
        if (!isObject(row)) {
          errors.push({ pointer: pointer('instances', i), code: 'not_an_object', detail: 'must be an object of feature values' });
          return;
        }
        for (const feature of schema.features) {
          const problem = featureProblem(feature, row);
          if (problem) errors.push({ pointer: pointer('instances', i, feature.name), ...problem });
        }
        for (const key of Object.keys(row)) {
          if (!names.has(key)) errors.push({ pointer: pointer('instances', i, key), code: 'unknown_field', detail: 'is not a feature of this model' });
        }
      });
    }
  }
  for (const key of Object.keys(body)) {
    if (key !== 'instances') errors.push({ pointer: pointer(key), code: 'unknown_field', detail: 'is not a member of the request' });
  }
  return errors;
}

/** What the upstream side checks on every row it receives: exactly the features, each value valid. */
export function rowIsValid(row: unknown, schema: ModelSchema): boolean {
  if (!isObject(row)) return false;
  const keys = Object.keys(row);
  if (keys.length !== schema.features.length) return false;
  return schema.features.every((f) => own(row, f.name) && featureProblem(f, row) === undefined);
}

/**
 * A number in [0, 1) derived from a row's values in schema order, with 6 decimals so it survives JSON exactly. The
 * fake upstream answers it as the row's first probability, so a caller can tell whether it got its own row back.
 */
export function fingerprint(row: Record<string, unknown>, schema: ModelSchema): number {
  const text = JSON.stringify(schema.features.map((f) => row[f.name]));
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return (h % 1_000_000) / 1_000_000;
}

export interface WellFormedOptions {
  /** The X-Request-Id the answer must carry in its body. */
  requestId?: string | null;
}

/**
 * Checks an answer is a well-formed RFC 9457 problem of the contract: problem+json, known type with the status it
 * belongs to, title, status equal to the HTTP status, requestId, and for 422 a non-empty errors[] of exactly
 * {pointer, code, detail}. Returns a list of what is wrong (empty when all is well), so fast-check can report it.
 */
export function problemDefects(status: number, contentType: string | null | undefined, text: string, options: WellFormedOptions = {}): string[] {
  const defects: string[] = [];
  if (!/^application\/problem\+json(;\s*charset=utf-8)?$/i.test(contentType ?? '')) defects.push(`content-type ${contentType}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return [...defects, 'body is not JSON'];
  }
  if (!isObject(body)) return [...defects, 'body is not an object'];
  const type = body['type'];
  const kind = typeof type === 'string' && type.startsWith('urn:sci-eb:problem:') ? type.slice('urn:sci-eb:problem:'.length) : undefined;
  if (!kind || !(kind in PROBLEM_STATUS)) defects.push(`type ${String(type)}`);
  else if (PROBLEM_STATUS[kind] !== status) defects.push(`type ${kind} with HTTP status ${status}`);
  if (typeof body['title'] !== 'string' || body['title'] === '') defects.push('title');
  if (body['status'] !== status) defects.push(`status member ${String(body['status'])} != ${status}`);
  if (own(body, 'detail') && typeof body['detail'] !== 'string') defects.push('detail');
  if (options.requestId && body['requestId'] !== options.requestId) defects.push('requestId');
  if (status === 422) {
    const errors = body['errors'];
    if (!Array.isArray(errors) || errors.length === 0) defects.push('errors[] missing or empty');
    else {
      for (const e of errors) {
        if (!isObject(e) || Object.keys(e).sort().join() !== 'code,detail,pointer') defects.push(`errors entry ${JSON.stringify(e)}`);
        else {
          if (typeof e['pointer'] !== 'string' || (e['pointer'] !== '' && !e['pointer'].startsWith('/'))) defects.push(`pointer ${String(e['pointer'])}`);
          if (typeof e['code'] !== 'string' || !CONTRACT_CODES.has(e['code'])) defects.push(`code ${String(e['code'])}`);
          if (typeof e['detail'] !== 'string' || e['detail'] === '') defects.push('errors detail');
        }
      }
    }
  }
  return defects;
}
