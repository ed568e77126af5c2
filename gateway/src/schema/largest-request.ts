import { contractProblem, ProblemError } from '../problems.js';
import type { ModelSchema } from './load.js';

// The cheap refusal of a body that no valid request could be (docs/contract.md, "Cheap refusals"), decided on its
// text before it is parsed. Parsing is what a refused body costs: one row of 90,000 made-up names (~760 KB) is an
// object V8 keeps as a dictionary, ~40 ms of JSON.parse and ~15 ms more to count its keys. Every member of a JSON
// object is followed by one ':' outside strings, and a ':' inside a string belongs to a name or a value. So the ':'
// characters of a valid request are at most one for "instances" and, per row and per feature, one plus what the
// feature's name and its longest valid value hold (a text's maxLength, a date-time's three, the most any of a
// category's values has). A body holding more cannot be valid, whatever else is in it, and is refused as too large.
// The Flask service counts alike (serving/largest_request.py), so both answer the same body the same way.

/** HH:MM:SS and an offset's +HH:MM (shared/formats.ts); a date, a number, a boolean or null holds none. */
const DATETIME_COLONS = 3;
const COLON = 0x3a;

const colonsIn = (text: string): number => text.split(':').length - 1;

function valueColons(feature: ModelSchema['features'][number]): number {
  switch (feature.type) {
    case 'text':
      return feature.maxLength; // every character of a text may be one
    case 'category':
      return Math.max(0, ...feature.categories.map((c) => (typeof c === 'string' ? colonsIn(c) : 0)));
    case 'datetime':
      return DATETIME_COLONS;
    default:
      return 0;
  }
}

/** The most ':' characters the JSON text of a valid request for this schema can hold. */
export function maxColons(schema: ModelSchema): number {
  let perRow = 0;
  for (const feature of schema.features) perRow += 1 + colonsIn(feature.name) + valueColons(feature);
  return 1 + schema.limits.maxRows * perRow;
}

/**
 * Whether `body` (UTF-8) holds more than `most` ':' characters, counted on its bytes (0x3a is never part of a longer
 * UTF-8 sequence, so the bytes count what the text would, without decoding 760 KB first) and no further than one past
 * the bound, so a huge body costs no more.
 */
export function moreColonsThan(body: Buffer, most: number): boolean {
  let count = 0;
  for (let at = body.indexOf(COLON); at !== -1; at = body.indexOf(COLON, at + 1)) if (++count > most) return true;
  return false;
}

/** A body check for the model: the 413 for a body holding more ':' than a valid request can, undefined otherwise. */
export function impossibleBody(schema: ModelSchema): (body: Buffer) => ProblemError | undefined {
  const most = maxColons(schema);
  const { maxRows } = schema.limits;
  return (body) =>
    moreColonsThan(body, most)
      ? new ProblemError(contractProblem('body-too-large', 'too-many-members', { maxRows }))
      : undefined;
}
