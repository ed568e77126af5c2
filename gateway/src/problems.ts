import type { ServerResponse } from 'node:http';
import { sendJsonText } from './pipeline.js';

/** One entry of a problem's `errors[]`: where (RFC 6901 pointer), what (contract code), why (never the value). */
export interface FieldError {
  pointer: string;
  code: string;
  detail: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  requestId?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_PREFIX = 'urn:sci-eb:problem:';

// The contract fixes the type suffixes; titles are constant per type so clients may switch on either.
const TITLES = {
  'malformed-json': 'The request body is not valid JSON',
  'body-too-large': 'The request body is too large',
  'unsupported-media-type': 'The request body must be application/json',
  'validation-error': "The request does not match the model's feature schema",
  'not-found': 'There is nothing at this path',
  'method-not-allowed': 'This method is not allowed on this path',
  'internal-error': 'Internal error',
  'upstream-error': 'The prediction service gave an invalid or failed answer',
  'upstream-unavailable': 'The prediction service is unavailable',
  'upstream-timeout': 'The prediction service did not answer in time',
  unauthorized: 'A valid API key is required',
  'rate-limited': 'Too many requests',
  'not-ready': 'The gateway is not ready to serve predictions',
} as const;

export type ProblemKind = keyof typeof TITLES;

export function problemType(kind: ProblemKind): string {
  return TYPE_PREFIX + kind;
}

export function makeProblem(kind: ProblemKind, status: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  const problem: Problem = { type: problemType(kind), title: TITLES[kind], status };
  if (detail !== undefined) problem.detail = detail;
  return { ...problem, ...extra };
}

/** Thrown anywhere in a request's life; the error handler renders it as problem+json. */
export class ProblemError extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  constructor(problem: Problem, headers: Record<string, string> = {}) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
    this.problem = problem;
    this.headers = headers;
  }
}

export function validationProblem(errors: FieldError[]): Problem {
  const detail = errors.length === 1 ? '1 problem; see errors' : `${errors.length} problems; see errors`;
  return makeProblem('validation-error', 422, detail, { errors });
}

export function sendProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const requestId = res.getHeader('X-Request-Id');
  const body = typeof requestId === 'string' && problem.requestId === undefined ? { ...problem, requestId } : problem;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJsonText(res, problem.status, JSON.stringify(body), `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
}

/** RFC 6901: `~` becomes `~0` and `/` becomes `~1`, in that order. */
export function toPointer(path: ReadonlyArray<string | number>): string {
  return path.map((part) => '/' + String(part).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
