// The gateway's refusals of a whole body before it is read as JSON (docs/contract.md, "Cheap refusals"): larger than
// the model's maxBodyBytes, or holding more ':' than any valid request can. Both are a 413 the gateway answers before
// any row is validated, so the client (with `validate: true`) and its mock answer them first too, and alike.
import type { FeatureRule } from '../src/shared/feature-code.js';
import { fill } from '../src/shared/fill.js';
import { mostColons } from '../src/shared/largest-request.js';

export interface BodyLimits {
  readonly features: readonly FeatureRule[];
  readonly limits: { readonly maxRows: number; readonly maxBodyBytes: number };
}

/** The contract's two sentences for a 413, with the model's limits as placeholders. */
export interface BodyRules {
  readonly details: { readonly 'body-too-large': string; readonly 'too-many-members': string };
}

/** A check of the JSON text about to be sent: the gateway's 413 detail when it would refuse it, else undefined. */
export function bodyCheck(schema: BodyLimits, rules: BodyRules): (text: string) => string | undefined {
  const { maxRows, maxBodyBytes } = schema.limits;
  const most = mostColons(schema.features, maxRows);
  const encoder = new TextEncoder();
  return (text) => {
    // The UTF-8 bytes are never fewer than the UTF-16 units, so most bodies need no encoding to be measured.
    if (text.length > maxBodyBytes || encoder.encode(text).length > maxBodyBytes)
      return fill(rules.details['body-too-large'], { maxBodyBytes });
    if (text.split(':').length - 1 > most) return fill(rules.details['too-many-members'], { maxRows });
    return undefined;
  };
}
