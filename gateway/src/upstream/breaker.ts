import CircuitBreaker from 'opossum';
import { UpstreamFailure } from './client.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  errorPercent: number;
  minRequests: number;
  windowMs: number;
  resetMs: number;
  onStateChange?: (state: BreakerState) => void;
}

export interface Breaker {
  run<T>(action: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  shutdown(): void;
}

/**
 * Wraps opossum (9.x: the last major that runs on Node 20) around one logical upstream call, retries included, so a
 * request that succeeded on its second attempt counts as a success and a burst of refused connections counts once
 * per caller. While open it fails fast with a Retry-After of the time left until the half-open probe.
 */
export function createBreaker(options: BreakerOptions): Breaker {
  const breaker = new CircuitBreaker((action: () => Promise<unknown>) => action(), {
    // Deadlines are enforced per request by the client; opossum's own timer would only race with them.
    timeout: false,
    errorThresholdPercentage: options.errorPercent,
    volumeThreshold: options.minRequests,
    rollingCountTimeout: options.windowMs,
    rollingCountBuckets: 10,
    resetTimeout: options.resetMs,
    // Only the error rate is used: latency percentiles and snapshot events would be work on every call for nothing.
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    // The caller's mistakes (4xx) and callers hanging up say nothing about the upstream's health.
    errorFilter: (err: unknown) => err instanceof UpstreamFailure && (err.kind === 'problem' || err.kind === 'aborted'),
  });
  let openedAt = 0;
  breaker.on('open', () => {
    openedAt = Date.now();
    options.onStateChange?.('open');
  });
  breaker.on('halfOpen', () => options.onStateChange?.('half-open'));
  breaker.on('close', () => options.onStateChange?.('closed'));

  return {
    async run<T>(action: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(action)) as T;
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          const left = Math.max(1, Math.ceil((openedAt + options.resetMs - Date.now()) / 1000));
          throw new UpstreamFailure('breaker-open', 'the upstream is failing; not tried', { retryAfter: left });
        }
        throw err;
      }
    },
    state() {
      if (breaker.halfOpen) return 'half-open';
      return breaker.opened ? 'open' : 'closed';
    },
    shutdown() {
      breaker.shutdown();
    },
  };
}
