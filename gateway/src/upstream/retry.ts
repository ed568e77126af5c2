import { setTimeout as sleep } from 'node:timers/promises';
import type { Cancellation } from './cancel.js';
import { UpstreamFailure } from './client.js';

export interface RetryPolicy {
  retries: number;
  baseMs: number;
  maxMs: number;
  /** Injectable for tests; Math.random in production. */
  random?: () => number;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/**
 * Prediction is a pure function of its input, so POST /v1/predict may be repeated safely. Only failures that say
 * "the service could not answer" are retried: never a timeout (the deadline is spent), a 500 (likely the same again),
 * a 4xx (the caller's fault) or an invalid answer.
 */
export function isRetryable(failure: UpstreamFailure): boolean {
  if (failure.kind === 'connect' || failure.kind === 'reset') return true;
  return failure.kind === 'status' && failure.status !== undefined && RETRYABLE_STATUS.has(failure.status);
}

/** Half fixed, half random ("equal jitter"): spreads retries of many callers but always backs off a little. */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** retry);
  return cap / 2 + (policy.random ?? Math.random)() * (cap / 2);
}

export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  ctx: { deadline: number; signal?: Cancellation },
  onRetry?: (failure: UpstreamFailure, retryNumber: number, delayMs: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof UpstreamFailure) || !isRetryable(err) || n >= policy.retries) throw err;
      let delay = backoffDelay(n, policy);
      if (err.retryAfter !== undefined) delay = Math.max(delay, err.retryAfter * 1000);
      // A retry that cannot finish before the deadline only delays the inevitable error.
      if (Date.now() + delay >= ctx.deadline) throw err;
      onRetry?.(err, n + 1, delay);
      try {
        await sleep(delay, undefined, ctx.signal ? { signal: ctx.signal.toAbortSignal() } : undefined);
      } catch {
        throw new UpstreamFailure('aborted', 'the caller went away', { cause: err });
      }
    }
  }
}
