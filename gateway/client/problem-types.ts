// The closed sets a caller switches on: every problem kind the gateway answers with (contract.json), the outcomes
// the client itself reports when no answer arrives, and every errors[].code. A misspelt kind or code fails to compile.
import { RULES } from './types.generated.js';

/** A problem the gateway (or the service behind it) answers with. */
export type ServerProblemKind = keyof typeof RULES.problems;
/**
 * What the client reports without an answer from the contract: `timeout` (no answer within timeoutMs),
 * `unreachable` (no HTTP answer at all: DNS, refused connection, TLS, CORS refusal, offline), `http-error` (an answer
 * that is not one of the contract's problems, e.g. a proxy's HTML 502). A caller's own abort is none of these: it is
 * rethrown as the platform's AbortError.
 */
export type ClientProblemKind = 'timeout' | 'unreachable' | 'http-error';
export type ProblemKind = ServerProblemKind | ClientProblemKind;
/** The RFC 9457 `type` of each kind; `about:blank` for an `http-error`. */
export type ProblemType = `${typeof RULES.typePrefix}${Exclude<ProblemKind, 'http-error'>}` | 'about:blank';

type CodeOf<K extends string> = K extends `${string}.${infer Rest}`
  ? Rest extends `${infer Code}.${string}`
    ? Code
    : Rest
  : never;
/** Every errors[].code of the contract. */
export type ErrorCode = CodeOf<keyof typeof RULES.errors>;

export const SERVER_PROBLEM_KINDS = Object.keys(RULES.problems) as ServerProblemKind[];

/** The kind a problem body's `type` names, if it is one of the contract's. */
export function kindOfType(type: unknown): ServerProblemKind | undefined {
  if (typeof type !== 'string' || !type.startsWith(RULES.typePrefix)) return undefined;
  const kind = type.slice(RULES.typePrefix.length);
  return (SERVER_PROBLEM_KINDS as string[]).includes(kind) ? (kind as ServerProblemKind) : undefined;
}

export const typeOfKind = (kind: ProblemKind): ProblemType =>
  kind === 'http-error' ? 'about:blank' : (`${RULES.typePrefix}${kind}` as ProblemType);
