// The most ':' characters the JSON text of a valid request can hold (docs/contract.md, "Cheap refusals"). Every
// member of a JSON object is followed by one ':' outside strings, and a ':' inside a string belongs to a name or a
// value. So a valid request holds at most one for "instances" and, per row and per feature, one plus what the
// feature's name and its longest valid value hold (a text's maxLength, a date-time's three, the most any of a
// category's values has). Pure: the gateway refuses a body holding more before parsing it (schema/largest-request.ts),
// and the client package refuses it before sending, both with this count; the Flask service counts alike
// (serving/largest_request.py).
import type { FeatureRule } from './feature-code.js';

/** HH:MM:SS and an offset's +HH:MM (formats.ts); a date, a number, a boolean or null holds none. */
const DATETIME_COLONS = 3;

export const colonsIn = (text: string): number => text.split(':').length - 1;

function valueColons(feature: FeatureRule): number {
  switch (feature.type) {
    case 'text':
      return feature.maxLength ?? 0; // every character of a text may be one
    case 'category':
      return Math.max(0, ...(feature.categories ?? []).map((c) => (typeof c === 'string' ? colonsIn(c) : 0)));
    case 'datetime':
      return DATETIME_COLONS;
    default:
      return 0;
  }
}

/** The most ':' characters the JSON text of a valid request of at most `maxRows` rows of `features` can hold. */
export function mostColons(features: readonly FeatureRule[], maxRows: number): number {
  let perRow = 0;
  for (const feature of features) perRow += 1 + colonsIn(feature.name) + valueColons(feature);
  return 1 + maxRows * perRow;
}
