import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { fill } from './shared/fill.js';
import { echoName } from './shared/members.js';

// The prediction contract's wording and limits (contract.json, the same bytes as the Flask service's
// serving/contract.json). Both servers read it at start-up, so their problem+json answers are byte-for-byte alike;
// nothing here restates a sentence. The file is checked once against the names the code uses, so a sentence the
// code needs cannot be missing and a renamed key fails at start-up rather than on some rare request.

/** Every problem type suffix the gateway can answer with. */
export const PROBLEM_KINDS = [
  'malformed-json',
  'unauthorized',
  'not-found',
  'method-not-allowed',
  'body-too-large',
  'unsupported-media-type',
  'validation-error',
  'rate-limited',
  'internal-error',
  'upstream-error',
  'upstream-unavailable',
  'not-ready',
  'upstream-timeout',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** The `details` sentences the code fills in. */
export const DETAIL_KEYS = [
  'malformed-json',
  'too-deep',
  'bad-compression',
  'incomplete-body',
  'body-too-large',
  'too-many-members',
  'unsupported-media-type',
  'unsupported-encoding',
  'not-found',
  'method-not-allowed',
  'internal-error',
  'gateway-only',
  'validation-error.one',
  'validation-error.many',
  'validation-error.capped',
] as const;
export type DetailKey = (typeof DETAIL_KEYS)[number];

/** `errors[]` sentences, keyed `<where>.<code>` (plus `.many` for a category list too long to print). */
export const ERROR_KEYS = [
  'document.not_an_object',
  'document.too_many_members',
  'document.unknown_field',
  'instances.required',
  'instances.not_an_array',
  'instances.too_few_rows',
  'instances.too_many_rows',
  'row.not_an_object',
  'row.too_many_members',
  'row.unknown_field',
  'feature.required',
  'feature.not_nullable',
  'feature.not_a_number',
  'feature.not_finite',
  'feature.not_an_integer',
  'feature.not_a_string',
  'feature.unknown_category',
  'feature.unknown_category.many',
  'feature.not_a_boolean',
  'feature.too_long',
  'feature.not_a_date',
  'feature.not_a_datetime',
] as const;
export type ErrorKey = (typeof ERROR_KEYS)[number];

/** `feature.not_finite` -> `not_finite`; `feature.unknown_category.many` -> `unknown_category`. */
type CodeOf<K extends string> = K extends `${string}.${infer Rest}`
  ? Rest extends `${infer Code}.${string}`
    ? Code
    : Rest
  : never;
export type ErrorCode = CodeOf<ErrorKey>;

/** Every `errors[].code` of the contract, derived from the error keys (which the file must have exactly). */
export const ERROR_CODES = [...new Set(ERROR_KEYS.map((key) => key.split('.')[1] as ErrorCode))] as [
  ErrorCode,
  ...ErrorCode[],
];

const sentence = z.string().min(1);
const exactKeys = <K extends string, V extends z.ZodType>(keys: readonly K[], value: V) =>
  z.strictObject(Object.fromEntries(keys.map((k) => [k, value])) as Record<K, V>);

const ContractFile = z.strictObject({
  $comment: z.string().optional(),
  contractVersion: z.literal(1),
  typePrefix: z.string().min(1),
  maxMagnitude: z.number().positive().refine(Number.isFinite),
  // An integer feature's bound: at most the last whole number a double holds exactly, so both servers read it alike.
  maxInteger: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  // A valid body nests 3 levels (object > instances > row); a smaller limit would reject valid requests.
  maxNestingDepth: z.number().int().min(3),
  maxErrors: z.number().int().min(1),
  maxListedCategories: z.number().int().min(1),
  // A member name the client chose is echoed in a pointer cut to this many code points (docs/contract.md).
  maxEchoedNameLength: z.number().int().min(1),
  // The years a date may have: those pandas' nanosecond timestamps hold, so every valid date fits the model's column.
  minYear: z.number().int().min(1),
  maxYear: z.number().int().max(9999),
  // The X-Request-Id values both servers echo (anchored by the reader): a caller must not inject newlines or
  // megabytes through a header that goes into logs and answers.
  requestIdPattern: z.string().min(1),
  problems: exactKeys(PROBLEM_KINDS, z.strictObject({ status: z.number().int().min(400).max(599), title: sentence })),
  details: exactKeys(DETAIL_KEYS, sentence),
  errors: exactKeys(ERROR_KEYS, sentence),
});

export type Contract = z.infer<typeof ContractFile>;

export class ContractFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractFileError';
  }
}

/** The package's contract.json: ../contract.json from src/ (vitest) and from dist/ (the built server) alike. */
export const CONTRACT_URL = new URL('../contract.json', import.meta.url);

export function parseContract(json: unknown, source = 'contract.json'): Contract {
  const result = ContractFile.safeParse(json);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(document)'}: ${issue.message}`);
    throw new ContractFileError(`${source} is not a contract file this gateway understands:\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadContract(url: URL = CONTRACT_URL): Contract {
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (err) {
    throw new ContractFileError(`cannot read the contract at ${url.pathname}: ${(err as Error).message}`);
  }
  try {
    return parseContract(JSON.parse(text), url.pathname);
  } catch (err) {
    if (err instanceof ContractFileError) throw err;
    throw new ContractFileError(`${url.pathname} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Read once, when the gateway starts: every problem the gateway sends is worded from this. */
export const CONTRACT: Contract = loadContract();

export { fill };

/** A member name the client sent, as a pointer may echo it: cut to maxEchoedNameLength code points, then "…". */
export function echoedName(name: string): string {
  return echoName(name, CONTRACT.maxEchoedNameLength);
}

/** The contract's own limits, which its sentences may name. */
const LIMIT_VALUES = {
  maxNestingDepth: CONTRACT.maxNestingDepth,
  maxErrors: CONTRACT.maxErrors,
  minYear: CONTRACT.minYear,
  maxYear: CONTRACT.maxYear,
  maxInteger: CONTRACT.maxInteger,
};

/** A `details` sentence with the contract's own limits filled in (the model's limits are passed by the caller). */
export function detail(key: DetailKey, values: Record<string, string | number> = {}): string {
  return fill(CONTRACT.details[key], { ...LIMIT_VALUES, ...values });
}

/** An `errors[]` sentence with the contract's own limits filled in, and the feature's (maxLength, categories...). */
export function errorDetail(key: ErrorKey, values: Record<string, string | number> = {}): string {
  return fill(CONTRACT.errors[key], { ...LIMIT_VALUES, ...values });
}
