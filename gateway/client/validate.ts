// The gateway's validation, run in the browser before a request is sent: the same rules, codes, pointers, sentences
// and order as the gateway's (and the Flask service's) 422, so a form can mark a field as the server would, per field
// while the user types and per row before sending. The pieces that decide a code, sort errors, read dates and count
// characters are the gateway's own (../src/shared); what zod decides there is decided here by the checks below, and
// test/client-validator.test.ts proves both answer alike on generated bodies.
import {
  compareRanks,
  DOCUMENT_MEMBER,
  INSTANCES,
  ROW,
  ROW_FEATURE,
  ROW_ITSELF,
  ROW_MEMBER,
  type Rank,
} from '../src/shared/error-order.js';
import { featureCode, isCodedCategory, type FeatureRule } from '../src/shared/feature-code.js';
import { fill } from '../src/shared/fill.js';
import { codePointLength, dateChecks } from '../src/shared/formats.js';
import { echoName, moreMembersThan } from '../src/shared/members.js';
import { toPointer } from '../src/shared/pointer.js';
import type { ErrorCode } from './problem-types.js';

/** One entry of a 422's errors[]: where in the request (RFC 6901 pointer), which rule, and a sentence for humans. */
export interface FieldError {
  pointer: string;
  code: ErrorCode;
  detail: string;
}

/** What validation needs of the model (the generated SCHEMA has it). */
export interface ValidationSchema {
  readonly features: readonly FeatureRule[];
  readonly limits: { readonly maxRows: number };
}

/** What validation needs of the contract (the generated RULES has it). */
export interface ValidationRules {
  readonly maxMagnitude: number;
  readonly maxInteger: number;
  readonly maxListedCategories: number;
  readonly minYear: number;
  readonly maxYear: number;
  /** A member name the caller chose is echoed in a pointer cut to this many code points. */
  readonly maxEchoedNameLength: number;
  readonly errors: Readonly<Record<string, string>>;
}

export interface Validator<Name extends string = string> {
  /** The errors of a whole request body, exactly as the gateway's 422 lists them (before its maxErrors cap). */
  validateRequest(body: unknown): FieldError[];
  /** The errors of rows to send, pointers as in the request (`/instances/<i>/<feature>`). */
  validateRows(rows: readonly unknown[]): FieldError[];
  /** The errors of one row, with its pointers for row `index`. */
  validateRow(row: unknown, index?: number): FieldError[];
  /** The error of one feature's value (`undefined` when valid), e.g. as a form field changes. */
  validateField(name: Name, value: unknown, index?: number): FieldError | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function createValidator(schema: ValidationSchema, rules: ValidationRules): Validator {
  const { isDate, isDatetime } = dateChecks(rules.minYear, rules.maxYear);
  const sentence = (key: string, values: Record<string, string | number> = {}) =>
    fill(rules.errors[key] ?? key, values);
  const rowTooManyMembers = sentence('row.too_many_members', { features: schema.features.length });
  /** The pointer of a member the caller named: a long name is echoed cut, as the gateway does. */
  const memberPointer = (path: ReadonlyArray<string | number>, name: string) =>
    toPointer([...path, echoName(name, rules.maxEchoedNameLength)]);
  const features = new Map(
    schema.features.map((spec, index) => {
      let own = '';
      if (spec.type === 'text') own = sentence('feature.too_long', { maxLength: spec.maxLength ?? 0 });
      if (spec.type === 'category') {
        const categories = spec.categories ?? [];
        own =
          categories.length > rules.maxListedCategories
            ? sentence('feature.unknown_category.many', { count: categories.length })
            : sentence('feature.unknown_category', { categories: categories.join(', ') });
      }
      return [spec.name, { spec, index, own }] as const;
    }),
  );

  const finiteInRange = (value: unknown): value is number =>
    typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= rules.maxMagnitude;

  /** Whether a present value is valid for the feature: what the gateway's zod schema for it accepts. */
  function accepts(spec: FeatureRule, value: unknown): boolean {
    if (value === null) return spec.nullable;
    switch (spec.type) {
      case 'category':
        return isCodedCategory(spec)
          ? typeof value === 'number' && (spec.categories ?? []).includes(value)
          : typeof value === 'string' && (spec.categories ?? []).includes(value);
      case 'integer':
        return finiteInRange(value) && Number.isInteger(value) && Math.abs(value) <= rules.maxInteger;
      case 'number':
        return finiteInRange(value);
      case 'text':
        return typeof value === 'string' && codePointLength(value) <= (spec.maxLength ?? 0);
      case 'boolean':
        return typeof value === 'boolean';
      case 'date':
        return typeof value === 'string' && isDate(value);
      case 'datetime':
        return typeof value === 'string' && isDatetime(value);
    }
  }

  type Entry = { rank: Rank; error: FieldError };

  function featureEntry(index: number, name: string, present: boolean, value: unknown): Entry | undefined {
    const feature = features.get(name);
    if (!feature || (present && accepts(feature.spec, value))) return undefined;
    const code = featureCode(feature.spec, present, value, rules.maxMagnitude);
    const detail = code === 'unknown_category' || code === 'too_long' ? feature.own : sentence(`feature.${code}`);
    return {
      rank: [ROW, index, ROW_FEATURE, feature.index, ''],
      error: { pointer: toPointer(['instances', index, name]), code, detail },
    };
  }

  function rowEntries(row: unknown, index: number, out: Entry[]): void {
    if (!isObject(row)) {
      out.push({
        rank: [ROW, index, ROW_ITSELF, 0, ''],
        error: {
          pointer: toPointer(['instances', index]),
          code: 'not_an_object',
          detail: sentence('row.not_an_object'),
        },
      });
      return;
    }
    // A cheap refusal (docs/contract.md): more members than the model has features, whatever they are.
    if (moreMembersThan(row, schema.features.length)) {
      out.push({
        rank: [ROW, index, ROW_ITSELF, 0, ''],
        error: { pointer: toPointer(['instances', index]), code: 'too_many_members', detail: rowTooManyMembers },
      });
      return;
    }
    for (const spec of schema.features) {
      const present = Object.hasOwn(row, spec.name);
      const entry = featureEntry(index, spec.name, present, present ? row[spec.name] : undefined);
      if (entry) out.push(entry);
    }
    for (const key of Object.keys(row)) {
      if (features.has(key)) continue;
      out.push({
        rank: [ROW, index, ROW_MEMBER, 0, key],
        error: {
          pointer: memberPointer(['instances', index], key),
          code: 'unknown_field',
          detail: sentence('row.unknown_field'),
        },
      });
    }
  }

  const sorted = (entries: Entry[]) => entries.sort((a, b) => compareRanks(a.rank, b.rank)).map((e) => e.error);

  function validateRequest(body: unknown): FieldError[] {
    if (!isObject(body)) return [{ pointer: '', code: 'not_an_object', detail: sentence('document.not_an_object') }];
    // A request has one member; more is refused whole, before anything in it is looked at.
    if (moreMembersThan(body, 1))
      return [{ pointer: '', code: 'too_many_members', detail: sentence('document.too_many_members') }];
    const out: Entry[] = [];
    for (const key of Object.keys(body)) {
      if (key === 'instances') continue;
      out.push({
        rank: [DOCUMENT_MEMBER, 0, 0, 0, key],
        error: { pointer: memberPointer([], key), code: 'unknown_field', detail: sentence('document.unknown_field') },
      });
    }
    const instances = body['instances'];
    const atInstances = (code: ErrorCode, detail: string) => {
      out.push({ rank: [INSTANCES, 0, 0, 0, ''], error: { pointer: '/instances', code, detail } });
    };
    if (!Object.hasOwn(body, 'instances')) atInstances('required', sentence('instances.required'));
    else if (!Array.isArray(instances)) atInstances('not_an_array', sentence('instances.not_an_array'));
    else if (instances.length === 0) atInstances('too_few_rows', sentence('instances.too_few_rows'));
    // A request over the row limit has to be split anyway; per-row errors would only hide that.
    else if (instances.length > schema.limits.maxRows)
      atInstances('too_many_rows', sentence('instances.too_many_rows', { maxRows: schema.limits.maxRows }));
    else for (const [index, row] of instances.entries()) rowEntries(row, index, out);
    return sorted(out);
  }

  return {
    validateRequest,
    validateRows: (rows) => validateRequest({ instances: rows }),
    validateRow(row, index = 0) {
      const out: Entry[] = [];
      rowEntries(row, index, out);
      return sorted(out);
    },
    validateField(name, value, index = 0) {
      // A name the model does not have (from untyped code) is the gateway's unknown_field, never "valid".
      if (!features.has(name))
        return {
          pointer: memberPointer(['instances', index], name),
          code: 'unknown_field',
          detail: sentence('row.unknown_field'),
        };
      return featureEntry(index, name, true, value)?.error;
    },
  };
}
