// An independent reading of the contract (docs/contract.md), written without zod and without the gateway's src/:
// it takes only the sentences and limits from contract.json (read here with JSON.parse, not through src/contract.ts)
// and implements the order of errors[], the cap, the nesting limit and the header rules itself, so the tests
// compare two implementations instead of one with itself.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ModelSchema } from '../../src/schema/load.js';

export interface ExpectedError {
  pointer: string;
  code: string;
  detail: string;
}

interface ContractJson {
  typePrefix: string;
  maxMagnitude: number;
  maxInteger: number;
  maxNestingDepth: number;
  maxErrors: number;
  maxListedCategories: number;
  maxEchoedNameLength: number;
  minYear: number;
  maxYear: number;
  problems: Record<string, { status: number; title: string }>;
  details: Record<string, string>;
  errors: Record<string, string>;
}

export const CONTRACT_JSON = JSON.parse(
  readFileSync(resolve(import.meta.dirname, '..', '..', 'contract.json'), 'utf8'),
) as ContractJson;
const C = CONTRACT_JSON;

/** The codes docs/contract.md lists under errors[]. */
export const CONTRACT_CODES = new Set([
  'required',
  'unknown_field',
  'not_a_number',
  'not_finite',
  'not_an_integer',
  'not_a_string',
  'unknown_category',
  'not_a_boolean',
  'too_long',
  'not_a_date',
  'not_a_datetime',
  'not_nullable',
  'not_an_object',
  'not_an_array',
  'too_few_rows',
  'too_many_rows',
  'too_many_members',
]);

/** Kind (type suffix) -> HTTP status, from the table in docs/contract.md and the gateway's additions. */
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

/** A sentence of contract.json with its {placeholders} filled. */
export function sentence(template: string, values: Record<string, string | number> = {}): string {
  let out = '';
  let rest = template;
  // Left to right, each {name} once: a filled value is not looked at again.
  for (let open = rest.indexOf('{'); open !== -1; open = rest.indexOf('{')) {
    const close = rest.indexOf('}', open);
    const name = close === -1 ? '' : rest.slice(open + 1, close);
    if (name in values) {
      out += rest.slice(0, open) + String(values[name]);
      rest = rest.slice(close + 1);
    } else {
      out += rest.slice(0, open + 1);
      rest = rest.slice(open + 1);
    }
  }
  return out + rest;
}

const E = (key: string, values?: Record<string, string | number>) =>
  sentence(C.errors[key]!, { minYear: C.minYear, maxYear: C.maxYear, maxInteger: C.maxInteger, ...values });

/** A day of the proleptic Gregorian calendar in the contract's years: checked by Date.UTC's round trip. */
function dayExists(year: number, month: number, day: number): boolean {
  if (year < C.minYear || year > C.maxYear) return false;
  const date = new Date(Date.UTC(2000, month - 1, day));
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** docs/contract.md's date: YYYY-MM-DD, digits 0-9 only. */
export function oracleIsDate(value: string): boolean {
  if (value.length !== 10 || value[4] !== '-' || value[7] !== '-') return false;
  const digits = value.slice(0, 4) + value.slice(5, 7) + value.slice(8, 10);
  if (![...digits].every((ch) => ch >= '0' && ch <= '9')) return false;
  return dayExists(Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10)));
}

/** docs/contract.md's date-time: a date, T, HH:MM:SS, an optional .fraction (1-9 digits), an optional Z or +-HH:MM. */
export function oracleIsDatetime(value: string): boolean {
  if (value.length < 19 || value[10] !== 'T' || !oracleIsDate(value.slice(0, 10))) return false;
  const digitsAt = (from: number, count: number) =>
    value.length >= from + count && [...value.slice(from, from + count)].every((ch) => ch >= '0' && ch <= '9');
  if (!digitsAt(11, 2) || value[13] !== ':' || !digitsAt(14, 2) || value[16] !== ':' || !digitsAt(17, 2)) return false;
  if (Number(value.slice(11, 13)) > 23 || Number(value.slice(14, 16)) > 59 || Number(value.slice(17, 19)) > 59)
    return false;
  let rest = value.slice(19);
  if (rest.startsWith('.')) {
    let n = 1;
    while (n < rest.length && rest[n]! >= '0' && rest[n]! <= '9') n++;
    if (n === 1 || n > 10) return false;
    rest = rest.slice(n);
  }
  if (rest === '' || rest === 'Z') return true;
  if (rest.length !== 6 || (rest[0] !== '+' && rest[0] !== '-') || rest[3] !== ':') return false;
  const hh = rest.slice(1, 3);
  const mm = rest.slice(4, 6);
  return /^[0-9]{2}$/.test(hh) && /^[0-9]{2}$/.test(mm) && Number(hh) <= 23 && Number(mm) <= 59;
}

const own = (o: object, k: string) => Object.hasOwn(o, k);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function pointer(...parts: Array<string | number>): string {
  return parts.map((p) => `/${String(p).split('~').join('~0').split('/').join('~1')}`).join('');
}

function featureProblem(
  feature: ModelSchema['features'][number],
  row: Record<string, unknown>,
): Omit<ExpectedError, 'pointer'> | undefined {
  if (!own(row, feature.name)) return { code: 'required', detail: E('feature.required') };
  const value = row[feature.name];
  if (value === null) return feature.nullable ? undefined : { code: 'not_nullable', detail: E('feature.not_nullable') };
  if (feature.type === 'category') {
    const numbers = feature.categories.every((c) => typeof c === 'number');
    if (numbers ? typeof value !== 'number' : typeof value !== 'string')
      return numbers
        ? { code: 'not_a_number', detail: E('feature.not_a_number') }
        : { code: 'not_a_string', detail: E('feature.not_a_string') };
    if ((feature.categories as unknown[]).includes(value)) return undefined;
    const categories = feature.categories as Array<string | number>;
    const detail =
      categories.length <= C.maxListedCategories
        ? E('feature.unknown_category', { categories: categories.join(', ') })
        : E('feature.unknown_category.many', { count: categories.length });
    return { code: 'unknown_category', detail };
  }
  if (feature.type === 'text') {
    if (typeof value !== 'string') return { code: 'not_a_string', detail: E('feature.not_a_string') };
    return [...value].length <= feature.maxLength
      ? undefined
      : { code: 'too_long', detail: E('feature.too_long', { maxLength: feature.maxLength }) };
  }
  if (feature.type === 'boolean')
    return typeof value === 'boolean' ? undefined : { code: 'not_a_boolean', detail: E('feature.not_a_boolean') };
  if (feature.type === 'date')
    return typeof value === 'string' && oracleIsDate(value)
      ? undefined
      : { code: 'not_a_date', detail: E('feature.not_a_date') };
  if (feature.type === 'datetime')
    return typeof value === 'string' && oracleIsDatetime(value)
      ? undefined
      : { code: 'not_a_datetime', detail: E('feature.not_a_datetime') };
  if (typeof value !== 'number') return { code: 'not_a_number', detail: E('feature.not_a_number') };
  // The contract's limit: beyond float32's range (where tree models compute) is not finite.
  if (!Number.isFinite(value) || Math.abs(value) > C.maxMagnitude)
    return { code: 'not_finite', detail: E('feature.not_finite') };
  // An integer within what a double holds exactly (2^53 - 1), written out here rather than read from the contract.
  if (feature.type === 'integer' && !(Number.isInteger(value) && Math.abs(value) <= 2 ** 53 - 1))
    return { code: 'not_an_integer', detail: E('feature.not_an_integer') };
  return undefined;
}

/** A client's member name as a pointer echoes it: its first maxEchoedNameLength code points, then an ellipsis. */
const echoed = (name: string) => {
  const points = Array.from(name);
  return points.length <= C.maxEchoedNameLength ? name : `${points.slice(0, C.maxEchoedNameLength).join('')}\u2026`;
};

/** "Sorted" in docs/contract.md: by UTF-16 code units, i.e. JavaScript's default sort. */
const sorted = (keys: string[]) => [...keys].sort();

/** The errors[] the contract calls for, all of them, in the documented order; [] means the body is valid. */
export function expectedErrors(body: unknown, schema: ModelSchema): ExpectedError[] {
  // 1. the document itself, and nothing else then.
  if (!isObject(body)) return [{ pointer: '', code: 'not_an_object', detail: E('document.not_an_object') }];
  // ... or a document with more members than a request has (one), refused whole.
  if (Object.keys(body).length > 1)
    return [{ pointer: '', code: 'too_many_members', detail: E('document.too_many_members') }];
  const errors: ExpectedError[] = [];
  const names = new Set(schema.features.map((f) => f.name));
  // 2. /instances.
  let rows: unknown[] = [];
  if (!own(body, 'instances')) {
    errors.push({ pointer: '/instances', code: 'required', detail: E('instances.required') });
  } else if (!Array.isArray(body['instances'])) {
    errors.push({ pointer: '/instances', code: 'not_an_array', detail: E('instances.not_an_array') });
  } else if (body['instances'].length === 0) {
    errors.push({ pointer: '/instances', code: 'too_few_rows', detail: E('instances.too_few_rows') });
  } else if (body['instances'].length > schema.limits.maxRows) {
    // Too many rows: nothing per row.
    errors.push({
      pointer: '/instances',
      code: 'too_many_rows',
      detail: E('instances.too_many_rows', { maxRows: schema.limits.maxRows }),
    });
  } else {
    rows = body['instances'];
  }
  // 3. other members of the document, sorted.
  for (const key of sorted(Object.keys(body).filter((k) => k !== 'instances'))) {
    errors.push({ pointer: pointer(echoed(key)), code: 'unknown_field', detail: E('document.unknown_field') });
  }
  // 4. row by row: the row, or its features in schema order and then its unknown members, sorted.
  rows.forEach((row, i) => {
    if (!isObject(row)) {
      errors.push({ pointer: pointer('instances', i), code: 'not_an_object', detail: E('row.not_an_object') });
      return;
    }
    // A row with more members than the model has features: refused whole, its members unread.
    if (Object.keys(row).length > schema.features.length) {
      errors.push({
        pointer: pointer('instances', i),
        code: 'too_many_members',
        detail: E('row.too_many_members', { features: schema.features.length }),
      });
      return;
    }
    for (const feature of schema.features) {
      const problem = featureProblem(feature, row);
      if (problem) errors.push({ pointer: pointer('instances', i, feature.name), ...problem });
    }
    for (const key of sorted(Object.keys(row).filter((k) => !names.has(k)))) {
      errors.push({
        pointer: pointer('instances', i, echoed(key)),
        code: 'unknown_field',
        detail: E('row.unknown_field'),
      });
    }
  });
  return errors;
}

/** The 422's detail, errors and errorsOmitted for these errors: at most maxErrors listed, the rest counted. */
export function expectedValidation(errors: ExpectedError[]): {
  detail: string;
  errors: ExpectedError[];
  errorsOmitted?: number;
} {
  if (errors.length > C.maxErrors) {
    return {
      detail: sentence(C.details['validation-error.capped']!, { count: errors.length, maxErrors: C.maxErrors }),
      errors: errors.slice(0, C.maxErrors),
      errorsOmitted: errors.length - C.maxErrors,
    };
  }
  const detail =
    errors.length === 1
      ? C.details['validation-error.one']!
      : sentence(C.details['validation-error.many']!, { count: errors.length });
  return { detail, errors };
}

/**
 * The most ':' a valid request's text can hold (docs/contract.md, "Cheap refusals"), read independently of the
 * gateway: one for "instances"; per row and feature, one for the member, plus its name's and its longest value's.
 */
export function oracleMostColons(schema: ModelSchema): number {
  const count = (s: string) => (s.match(/:/g) ?? []).length;
  const inValue = (f: ModelSchema['features'][number]): number =>
    f.type === 'text'
      ? f.maxLength
      : f.type === 'datetime'
        ? count('00:00:00+00:00')
        : f.type === 'category'
          ? Math.max(0, ...f.categories.map((c) => count(String(c))))
          : 0;
  const perRow = schema.features.reduce((sum, f) => sum + 1 + count(f.name) + inValue(f), 0);
  return 1 + schema.limits.maxRows * perRow;
}

/**
 * Whether JSON text nests arrays/objects more than maxNestingDepth levels, brackets inside strings not counting.
 * Decided on the text, so it holds for text that does not parse too. Strings (and an unterminated one at the end)
 * are cut out first, then the brackets counted.
 */
export function textNestsTooDeep(text: string): boolean {
  const bare = text.replace(/"(?:[^"\\]|\\[\s\S])*"/g, '').replace(/"(?:[^"\\]|\\[\s\S])*\\?$/, '');
  let depth = 0;
  for (const ch of bare) {
    if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    if (depth > C.maxNestingDepth) return true;
  }
  return false;
}

/**
 * The exact text of a problem body: members in the contract's order (type, title, status, detail, errors,
 * errorsOmitted, requestId), from contract.json's title for the kind.
 */
export function expectedProblemText(
  kind: string,
  detail: string,
  extra: { errors?: ExpectedError[]; errorsOmitted?: number; requestId?: string } = {},
): string {
  const body: Record<string, unknown> = {
    type: C.typePrefix + kind,
    title: C.problems[kind]!.title,
    status: C.problems[kind]!.status,
    detail,
  };
  if (extra.errors) body['errors'] = extra.errors;
  if (extra.errorsOmitted !== undefined) body['errorsOmitted'] = extra.errorsOmitted;
  if (extra.requestId !== undefined) body['requestId'] = extra.requestId;
  return JSON.stringify(body);
}

/** A details sentence of contract.json, its placeholders filled (the nesting and error limits from the file). */
export function contractDetail(key: string, values: Record<string, string | number> = {}): string {
  return sentence(C.details[key]!, { maxNestingDepth: C.maxNestingDepth, maxErrors: C.maxErrors, ...values });
}

/** docs/contract.md's Content-Type rule, read independently: application/json, and UTF-8 if a charset is named. */
export function contentTypeAccepted(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semi = header.indexOf(';');
  let type = semi === -1 ? header : header.slice(0, semi);
  while (type.startsWith(' ') || type.startsWith('\t')) type = type.slice(1);
  while (type.endsWith(' ') || type.endsWith('\t')) type = type.slice(0, -1);
  if (type.toLowerCase() !== 'application/json') return false;
  const m = header.match(/;[ \t]*charset[ \t]*=[ \t]*"?([^"; \t]+)/i);
  return m === null || ['utf-8', 'utf8'].includes(m[1]!.toLowerCase());
}

/** docs/contract.md's Content-Encoding rule: none, identity, gzip or deflate (any case); anything else is a 415. */
export function contentEncodingAccepted(header: string | undefined): boolean {
  return ['', 'identity', 'gzip', 'deflate'].includes((header ?? '').trim().toLowerCase());
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
export function problemDefects(
  status: number,
  contentType: string | null | undefined,
  text: string,
  options: WellFormedOptions = {},
): string[] {
  const defects: string[] = [];
  if (!/^application\/problem\+json(;\s*charset=utf-8)?$/i.test(contentType ?? ''))
    defects.push(`content-type ${contentType}`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return [...defects, 'body is not JSON'];
  }
  if (!isObject(body)) return [...defects, 'body is not an object'];
  const type = body['type'];
  const kind =
    typeof type === 'string' && type.startsWith('urn:sci-eb:problem:')
      ? type.slice('urn:sci-eb:problem:'.length)
      : undefined;
  if (!kind || !(kind in PROBLEM_STATUS)) defects.push(`type ${String(type)}`);
  else if (PROBLEM_STATUS[kind] !== status) defects.push(`type ${kind} with HTTP status ${status}`);
  if (typeof body['title'] !== 'string' || body['title'] === '') defects.push('title');
  if (body['status'] !== status) defects.push(`status member ${String(body['status'])} != ${status}`);
  if (own(body, 'detail') && typeof body['detail'] !== 'string') defects.push('detail');
  if (kind && kind in C.problems && body['title'] !== C.problems[kind]!.title)
    defects.push(`title ${String(body['title'])}`);
  // Member order is part of the contract (byte-for-byte answers): the known members in this order, requestId last.
  const order = ['type', 'title', 'status', 'detail', 'errors', 'errorsOmitted'];
  const known = Object.keys(body).filter((k) => order.includes(k));
  if (known.join() !== order.filter((k) => own(body, k)).join())
    defects.push(`member order ${Object.keys(body).join()}`);
  if (own(body, 'requestId') && Object.keys(body).at(-1) !== 'requestId')
    defects.push('requestId is not the last member');
  if (options.requestId && body['requestId'] !== options.requestId) defects.push('requestId');
  if (status === 422) {
    const errors = body['errors'];
    if (!Array.isArray(errors) || errors.length === 0) defects.push('errors[] missing or empty');
    else if (errors.length > C.maxErrors) defects.push(`${errors.length} errors listed, more than ${C.maxErrors}`);
    else {
      for (const e of errors) {
        if (!isObject(e) || Object.keys(e).sort().join() !== 'code,detail,pointer')
          defects.push(`errors entry ${JSON.stringify(e)}`);
        else {
          if (typeof e['pointer'] !== 'string' || (e['pointer'] !== '' && !e['pointer'].startsWith('/')))
            defects.push(`pointer ${String(e['pointer'])}`);
          if (typeof e['code'] !== 'string' || !CONTRACT_CODES.has(e['code']))
            defects.push(`code ${String(e['code'])}`);
          if (typeof e['detail'] !== 'string' || e['detail'] === '') defects.push('errors detail');
        }
      }
    }
  }
  return defects;
}
