// errors[] as a form shows them: one row's errors keyed by feature, the rest of that row's (not an object, unknown
// members) in a list, and the document's own (no rows, too many rows, unknown members) apart. Used for a 422 from
// the gateway and for the client validator's results alike.
import { fromPointer } from '../src/shared/pointer.js';
import type { FeatureName } from './types.generated.js';
import type { FieldError } from './validate.js';

export interface RowErrors {
  /** Errors of the row's features, by feature name. */
  fields: Partial<Record<FeatureName, FieldError>>;
  /** Errors of the row that belong to no feature (the row is not an object, a member is not a feature). */
  other: FieldError[];
}

/** The errors of row `index`. */
export function errorsOfRow(errors: readonly FieldError[], index: number): RowErrors {
  const out: RowErrors = { fields: {}, other: [] };
  for (const error of errors) {
    const path = fromPointer(error.pointer);
    if (path[0] !== 'instances' || path[1] !== String(index)) continue;
    const name = path[2];
    // A member's error is a feature's unless the member is not one (unknown_field).
    if (path.length === 3 && name !== undefined && error.code !== 'unknown_field')
      out.fields[name as FeatureName] = error;
    else out.other.push(error);
  }
  return out;
}

/** The errors that belong to no row: the document's and /instances' own. */
export function documentErrors(errors: readonly FieldError[]): FieldError[] {
  return errors.filter((error) => {
    const path = fromPointer(error.pointer);
    return !(path[0] === 'instances' && path.length >= 2);
  });
}
