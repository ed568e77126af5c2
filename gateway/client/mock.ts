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

/** The default answer: of this model's shape, the same for every row. */
export function defaultAnswer(rows: readonly unknown[]): PredictionResponse {
  const target = SCHEMA.target as { type: string; classes?: ReadonlyArray<string | number | boolean> };
  const model = { name: MODEL.name, version: MODEL.version };
  if (target.type === 'category' && target.classes) {
    const classes = [...target.classes];
    return { predictions: rows.map(() => classes[0]), classes, model } as unknown as PredictionResponse;
  }
  const value = target.type === 'outlier' ? 1 : 0;
  return { predictions: rows.map(() => value), model } as unknown as PredictionResponse;
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
