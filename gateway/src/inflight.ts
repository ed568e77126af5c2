/**
 * Requests in flight, and draining them on shutdown: `track` is the first middleware of every request (the predict
 * fast path's included), so `settled` knows when the last answer has gone out.
 */
import { EventEmitter, once } from 'node:events';
import type { Middleware } from './pipeline.js';

export interface InFlight {
  track: Middleware;
  count(): number;
  isDraining(): boolean;
  /** From now on keep-alive clients are told to reconnect (to another instance). */
  beginDrain(): void;
  /** Resolves true once nothing is in flight, false if that takes longer than timeoutMs. */
  settled(timeoutMs: number): Promise<boolean>;
}

export function createInFlight(): InFlight {
  let draining = false;
  let inFlight = 0;
  const idle = new EventEmitter();
  const track: Middleware = (_req, res, next) => {
    inFlight++;
    if (draining) res.setHeader('Connection', 'close');
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) idle.emit('idle');
    });
    next();
  };
  return {
    track,
    count: () => inFlight,
    isDraining: () => draining,
    beginDrain() {
      draining = true;
    },
    async settled(timeoutMs) {
      const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
      try {
        while (inFlight > 0) await once(idle, 'idle', { signal: timeout });
        return true;
      } catch {
        return false;
      }
    },
  };
}
