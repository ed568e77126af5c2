// Typed client for the prediction gateway. Copy this folder (index.ts + types.generated.ts) into a frontend, or
// import it from the gateway package; it needs only axios. Regenerate types.generated.ts with
// `npm run schema:sync` in the gateway when the model changes.
import axios, { AxiosError, type AxiosInstance } from 'axios';
import type { FeatureRow, PredictionResponse } from './types.generated.js';

export type { FeatureRow, Prediction, PredictionResponse, PredictRequest } from './types.generated.js';
export { FEATURE_NAMES, MAX_ROWS, MODEL } from './types.generated.js';

/** One entry of a problem's errors[]: where in the request, which rule, and a sentence for humans. */
export interface ProblemFieldError {
  pointer: string;
  code:
    | 'required'
    | 'unknown_field'
    | 'not_a_number'
    | 'not_finite'
    | 'not_an_integer'
    | 'not_a_string'
    | 'unknown_category'
    | 'not_nullable'
    | 'not_an_object'
    | 'not_an_array'
    | 'too_few_rows'
    | 'too_many_rows'
    | (string & {});
  detail: string;
}

/**
 * Every failed call, as an RFC 9457 problem. `status` is the HTTP status, or 0 when no answer arrived (network
 * error, timeout, CORS refusal); `type` is then `urn:sci-eb:problem:network-error`.
 */
export class PredictionProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: ProblemFieldError[];
  readonly requestId: string | undefined;
  /** Seconds to wait before trying again (429, 503), when the gateway said so. */
  readonly retryAfter: number | undefined;

  constructor(init: {
    status: number;
    type: string;
    title: string;
    detail?: string | undefined;
    errors?: ProblemFieldError[] | undefined;
    requestId?: string | undefined;
    retryAfter?: number | undefined;
    cause?: unknown;
  }) {
    super(init.detail ? `${init.title}: ${init.detail}` : init.title, { cause: init.cause });
    this.name = 'PredictionProblem';
    this.status = init.status;
    this.type = init.type;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
  }

  /** Errors for one row, e.g. to mark form fields: feature name -> detail. */
  errorsForRow(index: number): Record<string, string> {
    const prefix = `/instances/${index}/`;
    const out: Record<string, string> = {};
    for (const e of this.errors) {
      if (e.pointer.startsWith(prefix)) out[e.pointer.slice(prefix.length).replace(/~1/g, '/').replace(/~0/g, '~')] = e.detail;
    }
    return out;
  }
}

export interface PredictionClientOptions {
  /** The gateway's URL, e.g. https://predict.example.com */
  baseURL: string;
  apiKey?: string;
  /** Milliseconds; the gateway has its own upstream deadline, this bounds the whole call. Default 15000. */
  timeoutMs?: number;
  /** Bring your own axios instance (interceptors, adapters); baseURL and headers are set per request. */
  axiosInstance?: AxiosInstance;
}

export interface PredictionClient {
  predict(rows: FeatureRow[], options?: { requestId?: string; signal?: AbortSignal }): Promise<PredictionResponse & { requestId?: string; modelVersion?: string }>;
  schema(): Promise<Record<string, unknown>>;
}

function toProblem(err: unknown): PredictionProblem {
  if (err instanceof PredictionProblem) return err;
  if (err instanceof AxiosError && err.response) {
    const { status, data, headers } = err.response;
    const body = (typeof data === 'object' && data !== null ? data : {}) as Partial<PredictionProblem> & { errors?: ProblemFieldError[] };
    const retryAfter = Number(headers['retry-after']);
    return new PredictionProblem({
      status,
      type: typeof body.type === 'string' ? body.type : 'about:blank',
      title: typeof body.title === 'string' ? body.title : `HTTP ${status}`,
      detail: typeof body.detail === 'string' ? body.detail : undefined,
      errors: Array.isArray(body.errors) ? body.errors : [],
      requestId: (headers['x-request-id'] as string | undefined) ?? (typeof body.requestId === 'string' ? body.requestId : undefined),
      retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined,
      cause: err,
    });
  }
  return new PredictionProblem({
    status: 0,
    type: 'urn:sci-eb:problem:network-error',
    title: 'The gateway could not be reached',
    detail: err instanceof Error ? err.message : String(err),
    cause: err,
  });
}

export function createPredictionClient(options: PredictionClientOptions): PredictionClient {
  const http = options.axiosInstance ?? axios.create();
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  const base = { baseURL: options.baseURL, timeout: options.timeoutMs ?? 15_000, headers };

  return {
    async predict(rows, callOptions = {}) {
      try {
        const res = await http.post<PredictionResponse>(
          '/v1/predict',
          { instances: rows },
          {
            ...base,
            headers: { ...headers, 'content-type': 'application/json', ...(callOptions.requestId ? { 'x-request-id': callOptions.requestId } : {}) },
            ...(callOptions.signal ? { signal: callOptions.signal } : {}),
          },
        );
        const requestId = res.headers['x-request-id'] as string | undefined;
        const modelVersion = res.headers['x-model-version'] as string | undefined;
        return { ...res.data, ...(requestId ? { requestId } : {}), ...(modelVersion ? { modelVersion } : {}) };
      } catch (err) {
        throw toProblem(err);
      }
    },
    async schema() {
      try {
        return (await http.get<Record<string, unknown>>('/v1/schema', base)).data;
      } catch (err) {
        throw toProblem(err);
      }
    },
  };
}
