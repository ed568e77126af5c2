import { AUTH_FAILURES } from './auth.js';
import type { ProblemKind } from './contract.js';
import { DRAINING_DETAIL } from './health.js';
import { contractProblem, makeProblem, validationProblem, type Problem } from './problems.js';
import { RATE_LIMITED_DETAIL } from './ratelimit.js';
import { outputsOf, type ModelSchema } from './schema/load.js';
import { exampleRow, type PredictionBody, type Validators } from './schema/validators.js';
import { UpstreamFailure } from './upstream/client.js';
import { upstreamFailureToProblem } from './upstream/resilient.js';

// The OpenAPI document's response examples, made by the code that makes the real answers (the validator, the
// contract's sentences, the upstream failure mapping), so a mock server or a frontend fixture built from the
// document sees what the gateway sends.

const REQUEST_ID = '0b5e7a1c-2f3d-4e6a-9b8c-7d1e2f3a4b5c';

/** A value the first feature refuses, and a second row without its last feature: a 422 with two errors. */
export function invalidExampleBody(schema: ModelSchema): { instances: Array<Record<string, unknown>> } {
  const row = exampleRow(schema);
  const first = schema.features[0]!;
  const wrong = first.type === 'number' || first.type === 'integer' ? 'abc' : 12345;
  const { [schema.features.at(-1)!.name]: _dropped, ...incomplete } = row;
  return { instances: [{ ...row, [first.name]: wrong }, schema.features.length > 1 ? incomplete : row] };
}

const upstream = (failure: UpstreamFailure) => upstreamFailureToProblem(failure).problem;

/** One realistic body per problem kind, with the request id every answer carries. */
export function problemExamples(validators: Validators): Record<ProblemKind, Problem> {
  const { schema } = validators;
  const invalid = validators.validateRequest(invalidExampleBody(schema));
  const bodies: Record<ProblemKind, Problem> = {
    'malformed-json': contractProblem('malformed-json', 'malformed-json'),
    unauthorized: makeProblem('unauthorized', 401, AUTH_FAILURES.invalid),
    'not-found': contractProblem('not-found', 'not-found'),
    'method-not-allowed': contractProblem('method-not-allowed', 'method-not-allowed'),
    'body-too-large': contractProblem('body-too-large', 'body-too-large', { maxBodyBytes: schema.limits.maxBodyBytes }),
    'unsupported-media-type': contractProblem('unsupported-media-type', 'unsupported-media-type'),
    'validation-error': validationProblem(invalid.ok ? [] : invalid.errors),
    'rate-limited': makeProblem('rate-limited', 429, RATE_LIMITED_DETAIL),
    'internal-error': contractProblem('internal-error', 'internal-error'),
    'upstream-error': upstream(new UpstreamFailure('status', 'example', { status: 500 })),
    'upstream-unavailable': upstream(new UpstreamFailure('connect', 'example')),
    'not-ready': makeProblem('not-ready', 503, DRAINING_DETAIL),
    'upstream-timeout': upstream(new UpstreamFailure('timeout', 'example')),
  };
  for (const kind of Object.keys(bodies) as ProblemKind[]) bodies[kind] = { ...bodies[kind], requestId: REQUEST_ID };
  return bodies;
}

/** A 200 of this model for two rows: labels with their probabilities or scores, values, clusters or outlier flags. */
export function answerExample(schema: ModelSchema): PredictionBody {
  const model = { name: schema.model.name, version: schema.model.version };
  const { target } = schema;
  const outputs = outputsOf(schema);
  if (target.type === 'category') {
    const n = target.classes.length;
    // A confident row and a less confident one, each summing to 1.
    const spread = (top: number, at: number) => target.classes.map((_, j) => (j === at ? top : (1 - top) / (n - 1)));
    const round = (row: number[]) => row.map((p) => Math.round(p * 1000) / 1000);
    const second = n > 1 ? 1 : 0;
    return {
      predictions: [target.classes[0]!, target.classes[second]!],
      ...(outputs.includes('probabilities')
        ? { probabilities: [round(spread(0.9, 0)), round(spread(0.6, second))] }
        : {}),
      ...(outputs.includes('scores')
        ? {
            scores: [
              round(spread(2.5, 0).map((s, j) => (j === 0 ? s : -s))),
              round(spread(1.2, second).map((s, j) => (j === second ? s : -s))),
            ],
          }
        : {}),
      classes: target.classes,
      model,
    };
  }
  if (target.type === 'cluster') return { predictions: [0, target.clusters && target.clusters > 1 ? 1 : 0], model };
  if (target.type === 'outlier')
    return { predictions: [1, -1], ...(outputs.includes('scores') ? { scores: [0.12, -0.31] } : {}), model };
  return { predictions: [12.5, 7.25], model };
}
