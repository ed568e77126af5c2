// Typed client for the prediction gateway, published as the package in this folder (`npm run client:pack` in the
// gateway, or `make gateway-client` in the project, makes the tarball a frontend installs). It uses only the
// platform's fetch and AbortController, so it runs unchanged in browsers (with or without a bundler), Node >= 18,
// Deno and workers; nothing in it may import a Node module (client/tsconfig.json compiles it without Node's types).
// types.generated.ts is rewritten by `npm run schema:sync` when the model changes.
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
    | 'not_a_boolean'
    | 'too_long'
    | 'not_a_date'
    | 'not_a_datetime'
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
      if (e.pointer.startsWith(prefix))
        out[e.pointer.slice(prefix.length).replace(/~1/g, '/').replace(/~0/g, '~')] = e.detail;
    }
    return out;
  }
}

export interface PredictionClientOptions {
  /** The gateway's URL, e.g. https://predict.example.com (a path prefix is kept). */
  baseURL: string;
  apiKey?: string;
  /** Milliseconds; the gateway has its own upstream deadline, this bounds the whole call. Default 15000. */
  timeoutMs?: number;
  /** Bring your own fetch (interceptors, test doubles, older runtimes); the global fetch otherwise. */
  fetch?: typeof fetch;
}

export type PredictionResult = PredictionResponse & { requestId?: string; modelVersion?: string };

export interface PredictionClient {
  predict(rows: FeatureRow[], options?: { requestId?: string; signal?: AbortSignal }): Promise<PredictionResult>;
  schema(): Promise<Record<string, unknown>>;
}

function networkProblem(err: unknown, timedOut: boolean): PredictionProblem {
  return new PredictionProblem({
    status: 0,
    type: 'urn:sci-eb:problem:network-error',
    title: 'The gateway could not be reached',
    detail: timedOut ? 'no answer within the client timeout' : err instanceof Error ? err.message : String(err),
    cause: err,
  });
}

async function problemFrom(res: Response): Promise<PredictionProblem> {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await res.text());
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (e.g. a proxy's HTML page): status and headers still say what happened.
  }
  const retryAfter = Number(res.headers.get('retry-after') ?? NaN);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return new PredictionProblem({
    status: res.status,
    type: str(body['type']) ?? 'about:blank',
    title: str(body['title']) ?? `HTTP ${res.status}`,
    detail: str(body['detail']),
    errors: Array.isArray(body['errors']) ? (body['errors'] as ProblemFieldError[]) : [],
    requestId: res.headers.get('x-request-id') ?? str(body['requestId']),
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined,
  });
}

export function createPredictionClient(options: PredictionClientOptions): PredictionClient {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = options.baseURL.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (options.apiKey) headers['x-api-key'] = options.apiKey;

  async function call(path: string, init: RequestInit, signal: AbortSignal | undefined): Promise<Response> {
    // One controller for the timeout and the caller's signal (AbortSignal.any is too new for some browsers).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    if (signal?.aborted) controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await doFetch(`${base}${path}`, { ...init, signal: controller.signal });
      if (!res.ok) throw await problemFrom(res);
      return res;
    } catch (err) {
      if (err instanceof PredictionProblem) throw err;
      throw networkProblem(err, timedOut);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    async predict(rows, callOptions = {}) {
      const res = await call(
        '/v1/predict',
        {
          method: 'POST',
          headers: {
            ...headers,
            'content-type': 'application/json',
            ...(callOptions.requestId ? { 'x-request-id': callOptions.requestId } : {}),
          },
          body: JSON.stringify({ instances: rows }),
        },
        callOptions.signal,
      );
      const data = (await res.json()) as PredictionResponse;
      const requestId = res.headers.get('x-request-id');
      const modelVersion = res.headers.get('x-model-version');
      return { ...data, ...(requestId ? { requestId } : {}), ...(modelVersion ? { modelVersion } : {}) };
    },
    async schema() {
      const res = await call('/v1/schema', { method: 'GET', headers }, undefined);
      return (await res.json()) as Record<string, unknown>;
    },
  };
}
