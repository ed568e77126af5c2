import { contractProblem, ProblemError } from '../problems.js';
import { mostColons } from '../shared/largest-request.js';
import type { ModelSchema } from './load.js';

// The cheap refusal of a body that no valid request could be (docs/contract.md, "Cheap refusals"), decided on its
// text before it is parsed. Parsing is what a refused body costs: one row of 90,000 made-up names (~760 KB) is an
// object V8 keeps as a dictionary, ~40 ms of JSON.parse and ~15 ms more to count its keys. A body holding more ':'
// than any valid request can (shared/largest-request.ts says how many) cannot be valid, whatever else is in it, and
// is refused as too large. The Flask service counts alike (serving/largest_request.py), so both answer the same body
// the same way, and the client package refuses it before sending.

const COLON = 0x3a;

/** The most ':' characters the JSON text of a valid request for this schema can hold. */
export const maxColons = (schema: ModelSchema): number => mostColons(schema.features, schema.limits.maxRows);

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
