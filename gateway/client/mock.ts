// A stand-in for the gateway, for frontends built and tested without the model running: the client's interface,
// answering from the same validator (so invalid rows get the gateway's 422, errors[] and all), valid rows a
// deterministic answer of this model's shape, and any problem kind on request.
import type { ServerProblemKind } from './problem-types.js';
import { MODEL, RULES, SCHEMA, type FeatureRow, type PredictionResponse } from './types.generated.js';

export interface MockClientOptions {
  /** The answer to valid rows; by default the first class for each row (0 for a regression or clustering, 1 for an outlier detector). */
  predict?: (rows: FeatureRow[]) => PredictionResponse | Promise<PredictionResponse>;
  /** Milliseconds before each answer, to see loading states. Default 0. */
  delayMs?: number;
  /** Every predict fails with this problem (e.g. 'rate-limited', 'upstream-unavailable'), after validation. */
  problem?: ServerProblemKind;
}

/**
 * The default answer: of this model's shape (the members its real answers carry: probabilities, scores), the same
 * for every row: the first class, certain of it.
 */
export function defaultAnswer(rows: readonly unknown[]): PredictionResponse {
  const target = SCHEMA.target as {
    type: string;
    classes?: ReadonlyArray<string | number | boolean>;
    outputs?: readonly string[];
  };
  // Without outputs (schema version 1), what that version implied: a classifier's probabilities, a detector's scores.
  const outputs =
    target.outputs ?? (target.type === 'category' ? ['probabilities'] : target.type === 'outlier' ? ['scores'] : []);
  const model = { name: MODEL.name, version: MODEL.version };
  if (target.type === 'category' && target.classes) {
    const classes = [...target.classes];
    const first = (yes: number, no: number) => rows.map(() => classes.map((_, j) => (j === 0 ? yes : no)));
    return {
      predictions: rows.map(() => classes[0]),
      ...(outputs.includes('probabilities') ? { probabilities: first(1, 0) } : {}),
      ...(outputs.includes('scores') ? { scores: first(1, -1) } : {}),
      classes,
      model,
    } as unknown as PredictionResponse;
  }
  if (target.type === 'outlier')
    return {
      predictions: rows.map(() => 1),
      ...(outputs.includes('scores') ? { scores: rows.map(() => 1) } : {}),
      model,
    } as unknown as PredictionResponse;
  return { predictions: rows.map(() => 0), model } as unknown as PredictionResponse;
}

/** Waits `ms`, or rejects with an AbortError when the signal aborts first. */
export function delay(ms: number, signal: AbortSignal | undefined, abortError: () => Error): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The status and title the gateway answers a problem kind with (contract.json). */
export const problemHead = (kind: ServerProblemKind) => RULES.problems[kind];
