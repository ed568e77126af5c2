import type { z } from 'zod';
import { CONTRACT, echoedName, errorDetail, type ErrorCode, type ErrorKey } from '../contract.js';
import { toPointer, type FieldError } from '../problems.js';
import {
  compareRanks,
  DOCUMENT,
  DOCUMENT_MEMBER,
  INSTANCES,
  ROW,
  ROW_FEATURE,
  ROW_ITSELF,
  ROW_MEMBER,
  type Rank,
} from '../shared/error-order.js';
import { featureCode } from '../shared/feature-code.js';
import type { FeatureSpec, ModelSchema } from './load.js';

// zod decides whether a request is valid; this file turns its issues into the contract's errors[]. zod's issue
// codes are about zod's schema types, the contract's codes about the model's feature kinds, so the code is derived
// from *where* the issue is (document, instances, row, feature) and *what is there*, looked up in the submitted
// body. Details are contract.json's sentences and never contain the submitted value.

export { ERROR_CODES, type ErrorCode } from '../contract.js';

function has(container: unknown, key: string | number): boolean {
  return typeof container === 'object' && container !== null && Object.hasOwn(container, key);
}

function at(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = body;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

interface FeatureInfo {
  spec: FeatureSpec;
  index: number;
  /**
   * The feature's own sentence: for a category, unknown_category's (the categories listed, or their count when
   * there are too many to print); for a text, too_long's with its maxLength.
   */
  own: string;
}

const sentence = (key: ErrorKey) => errorDetail(key);

/** Builds, once per model, the function that maps zod's issues for a failed request to the contract's errors[]. */
export function createIssueMapper(
  schema: ModelSchema,
): (issues: readonly z.core.$ZodIssue[], body: unknown, oversizedRows?: readonly number[]) => FieldError[] {
  const features = new Map<string, FeatureInfo>(
    schema.features.map((spec, index) => {
      let own = '';
      if (spec.type === 'text') own = errorDetail('feature.too_long', { maxLength: spec.maxLength });
      if (spec.type === 'category')
        own =
          spec.categories.length > CONTRACT.maxListedCategories
            ? errorDetail('feature.unknown_category.many', { count: spec.categories.length })
            : errorDetail('feature.unknown_category', { categories: spec.categories.join(', ') });
      return [spec.name, { spec, index, own }];
    }),
  );
  const tooManyRows = errorDetail('instances.too_many_rows', { maxRows: schema.limits.maxRows });
  const rowTooManyMembers = errorDetail('row.too_many_members', { features: schema.features.length });

  return function issuesToFieldErrors(issues, body, oversizedRows = []) {
    const entries: Array<{ rank: Rank; error: FieldError }> = [];
    const seen = new Set<string>();
    const push = (
      rank: Rank,
      path: ReadonlyArray<string | number>,
      code: ErrorCode,
      detail: string,
      echoed?: string,
    ) => {
      const pointer = toPointer(path);
      // One entry per place: zod may report a value twice (a range and an integer check, say). Keyed by the whole
      // name: two long names cut to the same echo are still two problems.
      if (seen.has(pointer)) return;
      seen.add(pointer);
      const shown = echoed === undefined ? pointer : toPointer([...path.slice(0, -1), echoedName(echoed)]);
      entries.push({ rank, error: { pointer: shown, code, detail } });
    };
    // Rows refused by their member count alone (validators.ts put a valid row in their place for zod).
    for (const row of oversizedRows)
      push([ROW, row, ROW_ITSELF, 0, ''], ['instances', row], 'too_many_members', rowTooManyMembers);
    // zod runs the array's length checks on anything with a length, so "" or {"length": 0} would also get
    // too_few_rows (and a long string too_many_rows) next to not_an_array; the contract reports row counts only for
    // an actual array.
    const instancesIsArray = Array.isArray(at(body, ['instances']));
    const tooMany =
      instancesIsArray && issues.some((i) => i.code === 'too_big' && i.path.length === 1 && i.path[0] === 'instances');

    for (const issue of issues) {
      const path = issue.path as Array<string | number>;
      // A request over the row limit has to be split anyway; per-row noise would only hide that.
      if (tooMany && path.length > 1) continue;

      if (issue.code === 'unrecognized_keys') {
        if (path.length === 2) {
          const row = path[1] as number;
          for (const key of issue.keys)
            push([ROW, row, ROW_MEMBER, 0, key], [...path, key], 'unknown_field', sentence('row.unknown_field'), key);
        } else {
          for (const key of issue.keys)
            push([DOCUMENT_MEMBER, 0, 0, 0, key], [key], 'unknown_field', sentence('document.unknown_field'), key);
        }
      } else if (path.length === 0) {
        push([DOCUMENT, 0, 0, 0, ''], path, 'not_an_object', sentence('document.not_an_object'));
      } else if (path.length === 1) {
        const rank: Rank = [INSTANCES, 0, 0, 0, ''];
        if (!has(body, 'instances')) push(rank, path, 'required', sentence('instances.required'));
        else if (!instancesIsArray) push(rank, path, 'not_an_array', sentence('instances.not_an_array'));
        else if (issue.code === 'too_small') push(rank, path, 'too_few_rows', sentence('instances.too_few_rows'));
        else if (issue.code === 'too_big') push(rank, path, 'too_many_rows', tooManyRows);
      } else if (path.length === 2) {
        push([ROW, path[1] as number, ROW_ITSELF, 0, ''], path, 'not_an_object', sentence('row.not_an_object'));
      } else {
        const name = String(path[2]);
        const feature = features.get(name);
        if (!feature) continue; // unreachable: unknown keys are reported above
        const row = at(body, path.slice(0, 2));
        const code = featureCode(feature.spec, has(row, name), at(body, path), CONTRACT.maxMagnitude);
        const detail =
          code === 'unknown_category' || code === 'too_long' ? feature.own : sentence(`feature.${code}` as ErrorKey);
        push([ROW, path[1] as number, ROW_FEATURE, feature.index, ''], path.slice(0, 3), code, detail);
      }
    }
    return entries.sort((a, b) => compareRanks(a.rank, b.rank)).map((entry) => entry.error);
  };
}
