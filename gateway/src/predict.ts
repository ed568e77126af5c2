import type { Logger } from 'pino';
import type { MicroBatcher } from './batching.js';
import { JSON_TEXT, tooDeepProblem, type ParsedRequest } from './body.js';
import { sendJsonText, type GatewayRequest, type GatewayResponse } from './pipeline.js';
import { ProblemError, validationProblem } from './problems.js';
import type { Validators } from './schema/validators.js';
import type { UpstreamPrediction } from './upstream/client.js';
import { Cancellation } from './upstream/cancel.js';
import { upstreamFailureToProblem, type Predictor } from './upstream/resilient.js';

export interface PredictHandlerOptions {
  validators: Validators;
  predictor: Predictor;
  batcher: MicroBatcher | undefined;
  deadlineMs: number;
  logger: Logger;
}

export function createPredictHandler(options: PredictHandlerOptions) {
  const { validators, predictor, batcher, deadlineMs, logger } = options;
  const expectedVersion = validators.schema.model.version;

  return async function predict(req: GatewayRequest, res: GatewayResponse): Promise<void> {
    const validation = validators.validateRequest(req.body);
    // Nesting is checked only here, on the failure path: a valid body nests 3 levels, far below the limit, and
    // a too-deep body is a 400 even when zod found (many) problems in it too.
    if (!validation.ok)
      throw (
        tooDeepProblem((req as ParsedRequest)[JSON_TEXT] ?? '') ??
        new ProblemError(validationProblem(validation.errors))
      );

    const requestId = res.locals['requestId'] as string;
    const deadline = Date.now() + deadlineMs;
    // A caller that hangs up should not keep an upstream worker busy. Batched rows are not cancelled: their
    // batch mates still want the answer.
    const callerGone = new Cancellation();
    res.on('close', () => {
      if (!res.writableFinished) callerGone.abort();
    });

    let result: UpstreamPrediction;
    try {
      result =
        batcher && validation.rows.length === 1
          ? await batcher.submit(validation.rows[0]!, { requestId, deadline })
          : await predictor.predict(validation.rows, { requestId, deadline, signal: callerGone });
    } catch (err) {
      throw upstreamFailureToProblem(err);
    }
    if (result.modelVersion !== expectedVersion) {
      logger.warn(
        { requestId, upstreamVersion: result.modelVersion, expectedVersion },
        'upstream answered with another model version',
      );
    }
    res.setHeader('X-Model-Version', result.modelVersion);
    sendJsonText(res, 200, result.text ?? JSON.stringify(result.body));
  };
}
