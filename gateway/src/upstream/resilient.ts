import type { Logger } from 'pino';
import type { FeatureRow } from '../schema/validators.js';
import type { Metrics } from '../metrics.js';
import { makeProblem, ProblemError } from '../problems.js';
import type { Breaker } from './breaker.js';
import { UpstreamFailure, type CallContext, type UpstreamClient, type UpstreamPrediction } from './client.js';
import { withRetries, type RetryPolicy } from './retry.js';

export interface Predictor {
  predict(rows: FeatureRow[], ctx: CallContext): Promise<UpstreamPrediction>;
}

/** breaker( retries( one attempt ) ): what every prediction, batched or not, goes through. */
export function createPredictor(
  client: UpstreamClient,
  breaker: Breaker,
  policy: RetryPolicy,
  metrics: Metrics,
  logger: Logger,
): Predictor {
  async function attempt(rows: FeatureRow[], ctx: CallContext): Promise<UpstreamPrediction> {
    const stop = metrics.upstreamDuration.startTimer();
    try {
      const result = await client.predict(rows, ctx);
      stop({ outcome: 'ok' });
      return result;
    } catch (err) {
      stop({
        outcome: err instanceof UpstreamFailure ? (err.kind === 'status' ? `status_${err.status}` : err.kind) : 'error',
      });
      throw err;
    }
  }
  return {
    async predict(rows, ctx) {
      try {
        return await breaker.run(() =>
          withRetries(
            () => attempt(rows, ctx),
            policy,
            ctx,
            (failure, retryNumber, delayMs) => {
              metrics.upstreamRetries.inc({
                reason: failure.kind === 'status' ? `status_${failure.status}` : failure.kind,
              });
              logger.warn(
                { requestId: ctx.requestId, retry: retryNumber, delayMs: Math.round(delayMs), reason: failure.message },
                'retrying upstream',
              );
            },
          ),
        );
      } catch (err) {
        if (err instanceof UpstreamFailure && err.kind === 'breaker-open') metrics.breakerRejections.inc();
        throw err;
      }
    },
  };
}

/** How an upstream failure looks to the gateway's caller (docs/contract.md: 502/503/504, 4xx problems pass through). */
export function upstreamFailureToProblem(err: unknown): ProblemError {
  if (!(err instanceof UpstreamFailure)) return new ProblemError(makeProblem('internal-error', 500));
  const retryAfter = (seconds: number | undefined): Record<string, string> =>
    seconds === undefined ? {} : { 'Retry-After': String(seconds) };
  switch (err.kind) {
    case 'problem':
      return new ProblemError({ ...err.problem!, status: err.status! });
    case 'timeout':
      return new ProblemError(
        makeProblem('upstream-timeout', 504, 'The prediction service did not answer before the deadline.'),
      );
    case 'breaker-open':
      return new ProblemError(
        makeProblem(
          'upstream-unavailable',
          503,
          'The prediction service has been failing; the gateway is not sending it requests for now.',
        ),
        retryAfter(err.retryAfter),
      );
    case 'connect':
      return new ProblemError(
        makeProblem('upstream-unavailable', 503, 'The prediction service cannot be reached.'),
        retryAfter(1),
      );
    case 'status':
      if (err.status === 503) {
        return new ProblemError(
          makeProblem('upstream-unavailable', 503, 'The prediction service is unavailable.'),
          retryAfter(err.retryAfter ?? 1),
        );
      }
      if (err.status === 504)
        return new ProblemError(makeProblem('upstream-timeout', 504, 'The prediction service timed out.'));
      return new ProblemError(
        makeProblem('upstream-error', 502, `The prediction service failed (status ${err.status}).`),
      );
    case 'aborted':
      // Nobody is listening any more; 499 is nginx's convention for "client closed request" and shows up in logs.
      return new ProblemError(makeProblem('upstream-error', 499, 'The caller closed the request.'));
    case 'reset':
      return new ProblemError(makeProblem('upstream-error', 502, 'The connection to the prediction service broke.'));
    case 'invalid-response':
      return new ProblemError(
        makeProblem('upstream-error', 502, 'The prediction service gave an answer that does not follow the contract.'),
      );
  }
}
