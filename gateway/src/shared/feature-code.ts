// Why a feature's value is wrong, as a contract error code, by the feature's type and the value's JSON type
// (docs/contract.md, "Feature types"). Pure: the gateway maps zod's issues through it and the client package's
// validator calls it directly, so both name a mistake alike.

/** What a feature's validation needs of its schema.json entry. */
export interface FeatureRule {
  readonly name: string;
  readonly type: 'number' | 'integer' | 'category' | 'text' | 'boolean' | 'date' | 'datetime';
  readonly nullable: boolean;
  readonly categories?: ReadonlyArray<string | number>;
  readonly maxLength?: number;
}

export type FeatureCode =
  | 'required'
  | 'not_nullable'
  | 'unknown_category'
  | 'not_a_string'
  | 'not_a_number'
  | 'not_finite'
  | 'not_an_integer'
  | 'not_a_boolean'
  | 'too_long'
  | 'not_a_date'
  | 'not_a_datetime';

/** A category of whole numbers (an integer-coded category): its categories are numbers, not strings. */
export const isCodedCategory = (feature: FeatureRule): boolean =>
  feature.type === 'category' && (feature.categories ?? []).every((c) => typeof c === 'number');

/**
 * The code of a value already known to be refused: `present` says whether the row has the member at all.
 * `maxMagnitude` is contract.json's (float32's range: beyond it a number is not_finite).
 */
export function featureCode(feature: FeatureRule, present: boolean, value: unknown, maxMagnitude: number): FeatureCode {
  if (!present) return 'required';
  if (value === null) return 'not_nullable';
  switch (feature.type) {
    case 'category':
      if (isCodedCategory(feature)) return typeof value === 'number' ? 'unknown_category' : 'not_a_number';
      return typeof value === 'string' ? 'unknown_category' : 'not_a_string';
    case 'text':
      return typeof value === 'string' ? 'too_long' : 'not_a_string';
    case 'boolean':
      return 'not_a_boolean';
    case 'date':
      return 'not_a_date';
    case 'datetime':
      return 'not_a_datetime';
  }
  if (typeof value !== 'number') return 'not_a_number';
  if (!Number.isFinite(value) || Math.abs(value) > maxMagnitude) return 'not_finite';
  return 'not_an_integer';
}
