// Typed client for the prediction gateway, published as the package in this folder (`npm run client:pack` in the
// gateway, or `make gateway-client` in the project, makes the tarball a frontend installs). It uses only the
// platform's fetch and AbortController, so it runs unchanged in browsers (with or without a bundler), Node >= 18,
// Deno and workers; nothing in it may import a Node module (client/tsconfig.json compiles it without Node's types).
// types.generated.ts is written from the model's schema.json and contract.json (`npm run schema:sync`, and again by
// client:pack), so a package always carries the types, SCHEMA and RULES of the model it was packed for.
import { fill } from '../src/shared/fill.js';
import { bodyCheck } from './body-check.js';
import { documentErrors, errorsOfRow, type RowErrors } from './errors-by-field.js';
import { defaultAnswer, delay, type MockClientOptions, problemHead } from './mock.js';
import { kindOfType, typeOfKind, type ProblemKind, type ProblemType } from './problem-types.js';
import { parseRateLimit, parseRetryAfter, type RateLimitInfo } from './rate-limit.js';
import {
  MODEL,
  RULES,
  SCHEMA,
  type FeatureName,
  type FeatureRow,
  type Prediction,
  type PredictionResponse,
} from './types.generated.js';
import { createValidator, type FieldError, type Validator } from './validate.js';

export type {
  FeatureName,
  FeatureRow,
  Prediction,
  PredictionResponse,
  PredictRequest,
} from './types.generated.js';
export { FEATURE_NAMES, MAX_ROWS, MODEL, RULES, SCHEMA } from './types.generated.js';
export type { ClientProblemKind, ErrorCode, ProblemKind, ProblemType, ServerProblemKind } from './problem-types.js';
export { documentErrors, errorsOfRow, type RowErrors } from './errors-by-field.js';
export { parseRateLimit, parseRetryAfter, type RateLimitInfo } from './rate-limit.js';
export { createValidator, type FieldError, type Validator } from './validate.js';
export type { MockClientOptions } from './mock.js';

/** @deprecated since 0.2: FieldError. */
export type ProblemFieldError = FieldError;

/**
 * This model's validator: the gateway's rules, codes, pointers and sentences, run locally. For a form:
 * `validator.validateField('age', Number(input.value))` while typing, `validator.validateRows(rows)` before sending.
 */
export const validator: Validator<FeatureName> = createValidator(SCHEMA, RULES);
const oversized = bodyCheck(SCHEMA, RULES);

/**
 * Every failed call except a caller's own abort (rethrown as the platform's AbortError), as an RFC 9457 problem.
 * `kind` says which: one of the gateway's problem types, or `timeout`, `unreachable` (status 0, no answer) or
 * `http-error` (an answer that is not a contract problem, e.g. a proxy's page).
 */
export class PredictionProblem extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly type: ProblemType;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[];
  /** How many errors the gateway left out of `errors` (it lists at most RULES.maxErrors). */
  readonly errorsOmitted: number;
  readonly requestId: string | undefined;
  /** Seconds to wait before trying again (429, 503), when the gateway said so (Retry-After). */
  readonly retryAfter: number | undefined;
  /** The caller's rate-limit budget, when the gateway sent it (RateLimit, RateLimit-Policy). */
  readonly rateLimit: RateLimitInfo | undefined;
  /** True when the client's own validator refused the rows (`validate: true`) and nothing was sent. */
  readonly local: boolean;

  constructor(init: {
    kind: ProblemKind;
    status: number;
    title: string;
    detail?: string | undefined;
    errors?: FieldError[] | undefined;
    errorsOmitted?: number | undefined;
    requestId?: string | undefined;
    retryAfter?: number | undefined;
    rateLimit?: RateLimitInfo | undefined;
    local?: boolean;
    cause?: unknown;
  }) {
    super(init.detail ? `${init.title}: ${init.detail}` : init.title, { cause: init.cause });
    this.name = 'PredictionProblem';
    this.kind = init.kind;
    this.status = init.status;
    this.type = typeOfKind(init.kind);
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.errorsOmitted = init.errorsOmitted ?? 0;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.rateLimit = init.rateLimit;
    this.local = init.local ?? false;
  }

  /** Row `index`'s errors: by feature, plus those that belong to no feature. */
  errorsOf(index: number): RowErrors {
    return errorsOfRow(this.errors, index);
  }

  /** Errors of no row (the request itself: no rows, too many rows, unknown members). */
  get documentErrors(): FieldError[] {
    return documentErrors(this.errors);
  }

  /** Errors for one row, to mark form fields: feature name -> detail. */
  errorsForRow(index: number): Partial<Record<FeatureName, string>> {
    const out: Partial<Record<FeatureName, string>> = {};
    for (const [name, error] of Object.entries(this.errorsOf(index).fields)) out[name as FeatureName] = error!.detail;
    return out;
  }
}

export const isPredictionProblem = (err: unknown): err is PredictionProblem => err instanceof PredictionProblem;
/** A problem of the given kind (`isProblemOf(err, 'not-ready')`). */
export const isProblemOf = <K extends ProblemKind>(
  err: unknown,
  kind: K,
): err is PredictionProblem & { readonly kind: K } => isPredictionProblem(err) && err.kind === kind;
/** A 422: `errors` lists what to fix, by pointer. */
export const isValidationProblem = (err: unknown) => isProblemOf(err, 'validation-error');
/** A 429: wait `retryAfter` seconds. */
export const isRateLimited = (err: unknown) => isProblemOf(err, 'rate-limited');
/** No answer within the client's timeoutMs. */
export const isTimeout = (err: unknown) => isProblemOf(err, 'timeout');
/** No HTTP answer at all (network, DNS, TLS, CORS refusal, offline). */
export const isUnreachable = (err: unknown) => isProblemOf(err, 'unreachable');
/** Worth retrying later: a 429, a 503 (upstream-unavailable, not-ready), a gateway or client timeout, unreachable. */
export const isRetryable = (err: unknown): err is PredictionProblem =>
  isPredictionProblem(err) &&
  ['rate-limited', 'upstream-unavailable', 'not-ready', 'upstream-timeout', 'timeout', 'unreachable'].includes(
    err.kind,
  );
/** The caller's own abort, as fetch reports it. */
export const isAbortError = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';

export interface PredictionClientOptions {
  /** The gateway's URL, e.g. https://predict.example.com (a path prefix is kept). */
  baseURL: string;
  apiKey?: string;
  /** Milliseconds; the gateway has its own upstream deadline, this bounds the whole call. Default 15000. */
  timeoutMs?: number;
  /** Bring your own fetch (interceptors, test doubles, older runtimes); the global fetch otherwise. */
  fetch?: typeof fetch;
  /**
   * Check the request locally first and throw what the gateway would answer, without sending: its 413 for a body too
   * large to read, its 422 for invalid rows. Default false.
   */
  validate?: boolean;
}

export type PredictionResult = PredictionResponse & {
  requestId?: string;
  modelVersion?: string;
  rateLimit?: RateLimitInfo;
};

/** What GET /v1/schema answers: the model's public schema (SCHEMA is this, as packed). */
export interface ServedSchema {
  schemaVersion: number;
  model: { name: string; version: string; task: string };
  features: Array<{
    name: FeatureName;
    type: 'number' | 'integer' | 'category' | 'text' | 'boolean' | 'date' | 'datetime';
    nullable: boolean;
    categories?: Array<string | number>;
    maxLength?: number;
    observedMin?: number | string;
    observedMax?: number | string;
  }>;
  target: { name: string; type: string; classes?: Prediction[] };
  limits: { maxRows: number; maxBodyBytes: number };
}

export interface PredictionClient {
  predict(rows: FeatureRow[], options?: { requestId?: string; signal?: AbortSignal }): Promise<PredictionResult>;
  schema(signal?: AbortSignal): Promise<ServedSchema>;
}

/** The 422 the gateway would answer for these errors (its maxErrors cap and sentences). */
export function validationProblem(errors: FieldError[], local = true): PredictionProblem {
  const capped = errors.length > RULES.maxErrors;
  const count = { count: errors.length };
  const detail = capped
    ? fill(RULES.validation.capped, count)
    : errors.length === 1
      ? RULES.validation.one
      : fill(RULES.validation.many, count);
  return new PredictionProblem({
    kind: 'validation-error',
    status: RULES.problems['validation-error'].status,
    title: RULES.problems['validation-error'].title,
    detail,
    errors: capped ? errors.slice(0, RULES.maxErrors) : errors,
    errorsOmitted: capped ? errors.length - RULES.maxErrors : 0,
    local,
  });
}

/** The 413 the gateway answers, before reading it, for a body this large; undefined for one it reads. */
function bodyProblem(text: string, local: boolean): PredictionProblem | undefined {
  const detail = oversized(text);
  if (detail === undefined) return undefined;
  const { status, title } = RULES.problems['body-too-large'];
  return new PredictionProblem({ kind: 'body-too-large', status, title, detail, local });
}

function problemFrom(status: number, headers: Headers, text: string): PredictionProblem {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (e.g. a proxy's HTML page): status and headers still say what happened.
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const kind = kindOfType(body['type']) ?? 'http-error';
  const errors = Array.isArray(body['errors']) ? (body['errors'] as FieldError[]) : [];
  return new PredictionProblem({
    kind,
    status,
    title: str(body['title']) ?? `HTTP ${status}`,
    detail: str(body['detail']),
    errors,
    errorsOmitted: typeof body['errorsOmitted'] === 'number' ? body['errorsOmitted'] : 0,
    requestId: headers.get('x-request-id') ?? str(body['requestId']),
    retryAfter: parseRetryAfter(headers.get('retry-after')),
    rateLimit: parseRateLimit(headers),
  });
}

function abortError(cause: unknown): Error {
  if (isAbortError(cause) && cause instanceof Error) return cause;
  return new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * A client that answers without a gateway, from the same validator: the gateway's 422 for invalid rows, a
 * deterministic answer (or `options.predict`'s) for valid ones, `options.problem` for every call when set.
 */
export function createMockClient(options: MockClientOptions = {}): PredictionClient {
  const after = (signal: AbortSignal | undefined) => delay(options.delayMs ?? 0, signal, () => abortError(undefined));
  return {
    async predict(rows, callOptions = {}) {
      await after(callOptions.signal);
      const tooLarge = bodyProblem(JSON.stringify({ instances: rows }), false);
      if (tooLarge) throw tooLarge;
      const errors = validator.validateRows(rows);
      if (errors.length > 0) throw validationProblem(errors, false);
      if (options.problem) {
        const { status, title } = problemHead(options.problem);
        throw new PredictionProblem({
          kind: options.problem,
          status,
          title,
          ...(options.problem === 'rate-limited' || status === 503 ? { retryAfter: 1 } : {}),
        });
      }
      const answer = options.predict ? await options.predict(rows) : defaultAnswer(rows);
      return {
        ...answer,
        modelVersion: MODEL.version,
        ...(callOptions.requestId ? { requestId: callOptions.requestId } : {}),
      };
    },
    async schema(signal) {
      await after(signal);
      return structuredClone(SCHEMA) as unknown as ServedSchema;
    },
  };
}

export function createPredictionClient(options: PredictionClientOptions): PredictionClient {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = options.baseURL.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (options.apiKey) headers['x-api-key'] = options.apiKey;

  /** One call, body read included, bounded by the timeout and the caller's signal. */
  async function call(
    path: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
  ): Promise<{ headers: Headers; body: unknown }> {
    if (signal?.aborted) throw abortError(signal.reason);
    // One controller for the timeout and the caller's signal (AbortSignal.any is too new for some browsers).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await doFetch(`${base}${path}`, { ...init, signal: controller.signal });
      const text = await res.text();
      if (!res.ok) throw problemFrom(res.status, res.headers, text);
      return { headers: res.headers, body: JSON.parse(text) as unknown };
    } catch (err) {
      if (err instanceof PredictionProblem) throw err;
      if (signal?.aborted) throw abortError(err);
      if (timedOut)
        throw new PredictionProblem({
          kind: 'timeout',
          status: 0,
          title: 'The gateway did not answer in time',
          detail: `no answer within ${timeoutMs} ms`,
          cause: err,
        });
      throw new PredictionProblem({
        kind: 'unreachable',
        status: 0,
        title: 'The gateway could not be reached',
        detail: err instanceof Error ? err.message : String(err),
        cause: err,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    async predict(rows, callOptions = {}) {
      const body = JSON.stringify({ instances: rows });
      if (options.validate) {
        const tooLarge = bodyProblem(body, true);
        if (tooLarge) throw tooLarge;
        const errors = validator.validateRows(rows);
        if (errors.length > 0) throw validationProblem(errors);
      }
      const res = await call(
        '/v1/predict',
        {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json',
            ...(callOptions.requestId ? { 'x-request-id': callOptions.requestId } : {}),
          },
          body,
        },
        callOptions.signal,
      );
      const data = res.body as PredictionResponse;
      const requestId = res.headers.get('x-request-id');
      const modelVersion = res.headers.get('x-model-version');
      const rateLimit = parseRateLimit(res.headers);
      return {
        ...data,
        ...(requestId ? { requestId } : {}),
        ...(modelVersion ? { modelVersion } : {}),
        ...(rateLimit ? { rateLimit } : {}),
      };
    },
    async schema(signal) {
      return (await call('/v1/schema', { method: 'GET', headers }, signal)).body as ServedSchema;
    },
  };
}
