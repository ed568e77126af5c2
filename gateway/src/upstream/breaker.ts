import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { UpstreamFailure, type UpstreamClient } from './client.js';
import { createRecoveryProbe } from './recovery-probe.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  errorPercent: number;
  minRequests: number;
  windowMs: number;
  resetMs: number;
  /** While open: health probes every probeMs (jittered), closing the breaker on the first healthy answer. */
  probe?: { intervalMs: number; healthy: () => Promise<boolean> };
  onStateChange?: (state: BreakerState) => void;
}

/** Counts the probes' outcomes (the gateway's metrics pass their counter): all this module needs of them. */
export interface ProbeCounter {
  inc(labels: { outcome: 'healthy' | 'unhealthy' }): void;
}

export interface Breaker {
  run<T>(action: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  /** Health probes sent while open (0 without a probe). */
  probesSent(): number;
  shutdown(): void;
}

const BUCKETS = 10;

/**
 * Wraps opossum (9.x: the last major that runs on Node 20) around one logical upstream call, retries included, so a
 * request that succeeded on its second attempt counts as a success and a burst of refused connections counts once
 * per caller. While open it fails fast (503 with Retry-After) and does not call the upstream for predictions; a
 * recovery probe asks the health endpoint instead and closes the breaker when it answers healthy. opossum's own
 * half-open after resetMs stays as the fallback for an upstream without a working health endpoint.
 */
export function createBreaker(options: BreakerOptions): Breaker {
  // The rolling window's buckets are rotated by this emitter (opossum's rotateBucketController) rather than by
  // opossum's own interval, so a healthy probe can empty the window: failures from the outage that just ended must
  // not reopen the breaker at the first straggler.
  const rotation = new EventEmitter();
  const rotateTimer = setInterval(() => rotation.emit('rotate'), Math.max(1, Math.floor(options.windowMs / BUCKETS)));
  rotateTimer.unref();

  const breaker = new CircuitBreaker((action: () => Promise<unknown>) => action(), {
    // Deadlines are enforced per request by the client; opossum's own timer would only race with them.
    timeout: false,
    errorThresholdPercentage: options.errorPercent,
    volumeThreshold: options.minRequests,
    rollingCountTimeout: options.windowMs,
    rollingCountBuckets: BUCKETS,
    rotateBucketController: rotation,
    resetTimeout: options.resetMs,
    // Only the error rate is used: latency percentiles and snapshot events would be work on every call for nothing.
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    // The caller's mistakes (4xx) and callers hanging up say nothing about the upstream's health.
    errorFilter: (err: unknown) => err instanceof UpstreamFailure && (err.kind === 'problem' || err.kind === 'aborted'),
  });
  const probe = options.probe
    ? createRecoveryProbe({
        intervalMs: options.probe.intervalMs,
        check: options.probe.healthy,
        onHealthy: () => {
          for (let i = 0; i < BUCKETS; i++) rotation.emit('rotate');
          breaker.close();
        },
      })
    : undefined;
  let openedAt = 0;
  breaker.on('open', () => {
    openedAt = Date.now();
    probe?.start();
    options.onStateChange?.('open');
  });
  breaker.on('halfOpen', () => options.onStateChange?.('half-open'));
  breaker.on('close', () => {
    probe?.stop();
    options.onStateChange?.('closed');
  });

  return {
    async run<T>(action: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(action)) as T;
      } catch (err) {
        if ((err as { code?: string }).code === 'EOPENBREAKER') {
          // With a probe, the next look at the upstream is under a second away; Retry-After counts whole seconds.
          const left = probe ? 1 : Math.max(1, Math.ceil((openedAt + options.resetMs - Date.now()) / 1000));
          throw new UpstreamFailure('breaker-open', 'the upstream is failing; not tried', { retryAfter: left });
        }
        throw err;
      }
    },
    state() {
      if (breaker.halfOpen) return 'half-open';
      return breaker.opened ? 'open' : 'closed';
    },
    probesSent: () => probe?.sent() ?? 0,
    shutdown() {
      probe?.stop();
      clearInterval(rotateTimer);
      breaker.shutdown();
    },
  };
}

let probeCount = 0;

/** The probe's question: does the upstream's health endpoint answer 200 within timeoutMs? */
export async function upstreamHealthy(
  client: UpstreamClient,
  timeoutMs: number,
  probes?: ProbeCounter,
): Promise<boolean> {
  let healthy = false;
  try {
    const answer = await client.health({
      requestId: `breaker-probe-${++probeCount}`,
      deadline: Date.now() + timeoutMs,
    });
    healthy = answer.status === 200;
  } catch {
    healthy = false;
  }
  probes?.inc({ outcome: healthy ? 'healthy' : 'unhealthy' });
  return healthy;
}
