import type { FeatureRow, PredictionBody } from '../schema/validators.js';
import type { Problem } from '../problems.js';
import { Cancellation } from './cancel.js';

export interface CallContext {
  /** Sent upstream as X-Request-Id so both logs can be joined. */
  requestId: string;
  /** Absolute time (Date.now() based) after which the call is abandoned. */
  deadline: number;
  /** Aborts the call early, e.g. when the caller went away. */
  signal?: Cancellation;
}

export interface UpstreamPrediction {
  body: PredictionBody;
  /** X-Model-Version as the upstream sent it, falling back to body.model.version. */
  modelVersion: string;
  /** The upstream's JSON text of `body`, when the answer is the upstream's whole answer: sent on without re-serialising. */
  text?: string;
}

export interface UpstreamHealth {
  status: number;
  body: unknown;
}

/** How a client connects to the service: what both transports (undici, axios) are built from. */
export interface PoolOptions {
  baseUrl: string;
  healthPath: string;
  connections: number;
  /** Idle keep-alive sockets are dropped after this; keep it below every idle timeout on the way (gunicorn, nginx, ALB). */
  keepAliveMs: number;
  /** Sent as X-Service-Token on every call: the service behind a gateway answers only it (UPSTREAM_TOKEN). */
  token?: string;
}

/** The headers of every upstream call: what is accepted, the request id, and the gateway's token when it has one. */
export function upstreamHeaders(options: PoolOptions, ctx: CallContext, json: boolean): Record<string, string> {
  return {
    accept: 'application/json, application/problem+json',
    'x-request-id': ctx.requestId,
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(options.token ? { 'x-service-token': options.token } : {}),
  };
}

/** The one seam between the gateway and the EB service; one attempt per call, no retries in here. */
export interface UpstreamClient {
  predict(rows: FeatureRow[], ctx: CallContext): Promise<UpstreamPrediction>;
  health(ctx: CallContext): Promise<UpstreamHealth>;
  schema(ctx: CallContext): Promise<UpstreamHealth>;
  close(): Promise<void>;
}

export type FailureKind =
  | 'connect' // never reached the service (refused, DNS, connect timeout)
  | 'reset' // the connection broke after it was made, mid-request or mid-response
  | 'timeout' // the deadline passed
  | 'aborted' // our caller went away
  | 'status' // the service answered with a failure status
  | 'problem' // the service answered a 4xx problem+json: the caller's fault, passed through
  | 'invalid-response' // a 2xx that does not follow the contract
  | 'breaker-open'; // not tried at all

export class UpstreamFailure extends Error {
  readonly kind: FailureKind;
  readonly status?: number;
  readonly problem?: Problem;
  /** Seconds, from the upstream's Retry-After or the breaker's remaining open time. */
  readonly retryAfter?: number;
  constructor(
    kind: FailureKind,
    message: string,
    extra: { status?: number; problem?: Problem; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'UpstreamFailure';
    this.kind = kind;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.problem !== undefined) this.problem = extra.problem;
    if (extra.retryAfter !== undefined) this.retryAfter = extra.retryAfter;
  }
}

// Node's socket errors and undici's own codes for "could not connect" vs "connection broke".
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ECONNABORTED',
]);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'HPE_INVALID_CONSTANT',
  'ERR_BAD_RESPONSE',
]);

function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECT_CODES.has(code) || RESET_CODES.has(code))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Turns whatever a client library threw into an UpstreamFailure, deciding timeout vs abort from our own signals. */
export function classifyThrown(err: unknown, timedOut: boolean, callerAborted: boolean): UpstreamFailure {
  if (err instanceof UpstreamFailure) return err;
  if (callerAborted) return new UpstreamFailure('aborted', 'the caller went away', { cause: err });
  if (timedOut)
    return new UpstreamFailure('timeout', 'the upstream did not answer before the deadline', { cause: err });
  const code = errorCode(err);
  if (code && CONNECT_CODES.has(code))
    return new UpstreamFailure('connect', `cannot connect to the upstream (${code})`, { cause: err });
  return new UpstreamFailure('reset', `the upstream connection failed${code ? ` (${code})` : ''}`, { cause: err });
}

export function parseRetryAfter(value: string | string[] | undefined | null): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function isProblem(value: unknown): value is Problem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Problem).type === 'string' &&
    typeof (value as Problem).status === 'number'
  );
}

export interface RawAnswer {
  status: number;
  contentType: string;
  text: string;
  modelVersion?: string;
  retryAfter?: string;
}

/** Shared by every client implementation, so they cannot disagree about what an answer means. */
export function interpretPrediction(answer: RawAnswer, rowCount: number): UpstreamPrediction {
  const { status } = answer;
  if (status >= 200 && status < 300) {
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch (err) {
      throw new UpstreamFailure('invalid-response', 'the upstream answered with invalid JSON', { cause: err });
    }
    const prediction = body as UpstreamPrediction['body'];
    const consistent =
      typeof prediction === 'object' &&
      prediction !== null &&
      Array.isArray(prediction.predictions) &&
      prediction.predictions.length === rowCount &&
      typeof prediction.model?.version === 'string' &&
      typeof prediction.model?.name === 'string' &&
      (prediction.probabilities === undefined ||
        (Array.isArray(prediction.probabilities) &&
          prediction.probabilities.length === rowCount &&
          prediction.probabilities.every(Array.isArray))) &&
      // one score per row: a number (outlier detection) or one per class (a classifier without probabilities)
      (prediction.scores === undefined || (Array.isArray(prediction.scores) && prediction.scores.length === rowCount));
    if (!consistent)
      throw new UpstreamFailure('invalid-response', 'the upstream answer does not follow the prediction contract', {
        status,
      });
    return { body: prediction, modelVersion: answer.modelVersion ?? prediction.model.version, text: answer.text };
  }
  const retryAfter = parseRetryAfter(answer.retryAfter);
  // 401/403 from the service is about the gateway's own credential (UPSTREAM_TOKEN), never the caller's request: an
  // upstream error (502), not something to pass on to a caller who did nothing wrong.
  if (status === 401 || status === 403)
    throw new UpstreamFailure('status', `the upstream refused the gateway (${status}): check UPSTREAM_TOKEN`, {
      status,
    });
  if (status >= 400 && status < 500 && answer.contentType.includes('problem+json')) {
    let problem: unknown;
    try {
      problem = JSON.parse(answer.text);
    } catch {
      problem = undefined;
    }
    if (isProblem(problem))
      throw new UpstreamFailure('problem', `the upstream rejected the request (${status})`, {
        status,
        problem,
        ...(retryAfter === undefined ? {} : { retryAfter }),
      });
  }
  throw new UpstreamFailure('status', `the upstream answered ${status}`, {
    status,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  });
}

/** UPSTREAM_URL may carry a base path (a path-routed load balancer); endpoints hang below it. */
export function joinUrl(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  return url;
}

/**
 * The signal for one attempt: fires at the deadline or when the caller's does. Unlike AbortSignal.timeout/any, its
 * timer is cleared as soon as the attempt settles, so thousands of requests per second do not leave thousands of
 * live timers behind until the deadline.
 */
export function attemptSignal(ctx: CallContext): {
  signal: Cancellation;
  timedOut(): boolean;
  callerAborted(): boolean;
  dispose(): void;
} {
  const signal = new Cancellation();
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      signal.abort(new Error('deadline exceeded'));
    },
    Math.max(1, ctx.deadline - Date.now()),
  );
  const caller = ctx.signal;
  const onCallerAbort = (reason: unknown) => signal.abort(reason);
  if (caller?.aborted) onCallerAbort(caller.reason);
  else caller?.once('abort', onCallerAbort);
  return {
    signal,
    timedOut: () => timedOut,
    callerAborted: () => caller?.aborted === true,
    dispose() {
      clearTimeout(timer);
      caller?.removeListener('abort', onCallerAbort);
    },
  };
}

/** One HTTP exchange with the upstream; each transport (undici, axios) implements only this. */
export type Transport = (method: 'GET' | 'POST', target: string, ctx: CallContext, body?: string) => Promise<RawAnswer>;

/** The client every transport shares: the three calls of the contract over one `Transport`. */
export function clientOver(
  call: Transport,
  targets: { predict: string; health: string; schema: string },
  close: () => Promise<void>,
): UpstreamClient {
  async function getJson(target: string, ctx: CallContext): Promise<UpstreamHealth> {
    const answer = await call('GET', target, ctx);
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    return { status: answer.status, body };
  }
  return {
    async predict(rows, ctx) {
      return interpretPrediction(
        await call('POST', targets.predict, ctx, JSON.stringify({ instances: rows })),
        rows.length,
      );
    },
    health: (ctx) => getJson(targets.health, ctx),
    schema: (ctx) => getJson(targets.schema, ctx),
    close,
  };
}
