import type { ServerResponse } from 'node:http';
import { CONTRACT, detail, type DetailKey, type ProblemKind } from './contract.js';
import { sendJsonText } from './pipeline.js';

export { toPointer } from './shared/pointer.js';

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
  /** How many errors beyond the first maxErrors were left out of `errors`. */
  errorsOmitted?: number;
  requestId?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export type { ProblemKind };

export function problemType(kind: ProblemKind): string {
  return CONTRACT.typePrefix + kind;
}

/**
 * A problem body with its members in the contract's order: type, title, status, detail, then `extra` (errors,
 * errorsOmitted, ...); sendProblem appends requestId last. Titles come from contract.json, constant per type, so
 * clients may switch on either.
 */
export function makeProblem(kind: ProblemKind, status: number, detail?: string, extra: Partial<Problem> = {}): Problem {
  const problem: Problem = { type: problemType(kind), title: CONTRACT.problems[kind].title, status };
  if (detail !== undefined) problem.detail = detail;
  return { ...problem, ...extra };
}

/** The contract's problem of this kind with its own status, worded by one of the contract's `details`. */
export function contractProblem(
  kind: ProblemKind,
  detailKey: DetailKey,
  values: Record<string, string | number> = {},
): Problem {
  return makeProblem(kind, CONTRACT.problems[kind].status, detail(detailKey, values));
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

/**
 * The 422 for these errors, already in the contract's order: at most maxErrors are listed, and errorsOmitted counts
 * the rest, so a body of 40,000 unknown members still gets a short answer.
 */
export function validationProblem(errors: FieldError[]): Problem {
  const { maxErrors } = CONTRACT;
  const status = CONTRACT.problems['validation-error'].status;
  if (errors.length > maxErrors) {
    return makeProblem('validation-error', status, detail('validation-error.capped', { count: errors.length }), {
      errors: errors.slice(0, maxErrors),
      errorsOmitted: errors.length - maxErrors,
    });
  }
  const sentence =
    errors.length === 1 ? detail('validation-error.one') : detail('validation-error.many', { count: errors.length });
  return makeProblem('validation-error', status, sentence, { errors });
}

export function sendProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const requestId = res.getHeader('X-Request-Id');
  const body = typeof requestId === 'string' && problem.requestId === undefined ? { ...problem, requestId } : problem;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  sendJsonText(res, problem.status, JSON.stringify(body), `${PROBLEM_CONTENT_TYPE}; charset=utf-8`);
}
