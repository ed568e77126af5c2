import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// The package root, whether this runs as src/config.ts (tests) or dist/config.js (production).
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Every variable carries its own "what it should be" sentence, so a bad deployment gets one line per mistake.
// Values are never echoed back: REDIS_URL may hold a password.
function optionalInt(name: string, min: number, max: number) {
  const message = `${name} must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, message)
    .transform(Number)
    .pipe(z.number().int().min(min, message).max(max, message))
    .optional();
}

function int(name: string, min: number, max: number, fallback: number) {
  return optionalInt(name, min, max).transform((v) => v ?? fallback);
}

function optionalBool(name: string) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: `${name} must be true or false` }))
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v))
    .optional();
}

function bool(name: string, fallback: boolean) {
  return optionalBool(name).transform((v) => v ?? fallback);
}

function list(name: string, pattern: RegExp, what: string) {
  return z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(pattern, `${name} must be ${what}`)));
}

const httpUrl = (name: string) =>
  z
    .url({ protocol: /^https?$/, error: `${name} must be an http:// or https:// URL` })
    // zod runs this even when the URL check above failed, so it must not throw on garbage.
    .refine(
      (u) => !URL.canParse(u) || (!new URL(u).search && !new URL(u).hash),
      `${name} must not have a query or fragment`,
    );

/** Rows per micro-batch when BATCH_MAX_ROWS is unset: the peak of `npm run bench`'s sweep (16 worse, 256 no better). */
export const DEFAULT_BATCH_MAX_ROWS = 64;

/** Mean interval of the breaker's recovery probe; see README "Circuit breaker" for the measurement behind it. */
export const DEFAULT_BREAKER_PROBE_MS = 250;

export const EnvSchema = z
  .object({
    HOST: z
      .string()
      .trim()
      .min(1)
      .optional()
      .transform((v) => v ?? '127.0.0.1'),
    PORT: int('PORT', 0, 65535, 8080),
    SCHEMA_PATH: z
      .string()
      .trim()
      .min(1)
      .optional()
      .transform((v) => resolve(PACKAGE_ROOT, v ?? 'schema.json')),
    UPSTREAM_URL: z
      .string({ error: 'UPSTREAM_URL is required: the base URL of the EB prediction service' })
      .pipe(httpUrl('UPSTREAM_URL')),
    // The service's X-Service-Token (its SERVICE_TOKENS): with a gateway, the service answers predictions only to it.
    // Set by `make gateway-create`; never logged.
    UPSTREAM_TOKEN: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._~-]{16,256}$/, 'UPSTREAM_TOKEN must be 16 to 256 letters, digits or . _ ~ -')
      .optional(),
    UPSTREAM_HEALTH_PATH: z
      .string()
      .regex(/^\/[^?#\s]*$/, 'UPSTREAM_HEALTH_PATH must be a path starting with /')
      .optional()
      .transform((v) => v ?? '/health'),
    UPSTREAM_CLIENT: z
      .enum(['undici', 'axios'], { error: 'UPSTREAM_CLIENT must be undici or axios' })
      .optional()
      .transform((v) => v ?? 'undici'),
    UPSTREAM_CONNECTIONS: int('UPSTREAM_CONNECTIONS', 1, 1024, 32),
    UPSTREAM_KEEPALIVE_MS: int('UPSTREAM_KEEPALIVE_MS', 100, 3_600_000, 4000),
    UPSTREAM_HEALTH_TIMEOUT_MS: int('UPSTREAM_HEALTH_TIMEOUT_MS', 50, 60_000, 2000),
    // 2 s, not 10: with 10 s a hung upstream held every socket and caller for 10 s, and callers kept timing out for
    // about that long after it recovered (npm run reliability, slow fault; README "Deadline").
    REQUEST_DEADLINE_MS: int('REQUEST_DEADLINE_MS', 50, 300_000, 2000),
    UPSTREAM_RETRIES: int('UPSTREAM_RETRIES', 0, 10, 2),
    RETRY_BASE_MS: int('RETRY_BASE_MS', 1, 60_000, 50),
    RETRY_MAX_MS: int('RETRY_MAX_MS', 1, 60_000, 1000),
    BREAKER_ERROR_PERCENT: int('BREAKER_ERROR_PERCENT', 1, 100, 50),
    BREAKER_MIN_REQUESTS: int('BREAKER_MIN_REQUESTS', 1, 100_000, 10),
    BREAKER_WINDOW_MS: int('BREAKER_WINDOW_MS', 100, 3_600_000, 10_000),
    BREAKER_RESET_MS: int('BREAKER_RESET_MS', 50, 3_600_000, 10_000),
    // While open, the upstream's health endpoint is probed about this often (jittered 0.5x-1.5x); 0 turns probing off
    // and leaves only the half-open attempt after BREAKER_RESET_MS. Chosen by measurement: README "Circuit breaker".
    BREAKER_PROBE_MS: int('BREAKER_PROBE_MS', 0, 60_000, DEFAULT_BREAKER_PROBE_MS),
    BREAKER_PROBE_TIMEOUT_MS: int('BREAKER_PROBE_TIMEOUT_MS', 10, 60_000, 500),
    BATCH_ENABLED: bool('BATCH_ENABLED', true),
    BATCH_WINDOW_MS: int('BATCH_WINDOW_MS', 0, 1000, 5),
    // Unset: DEFAULT_BATCH_MAX_ROWS or the model's limits.maxRows, whichever is smaller (known once schema.json is read).
    BATCH_MAX_ROWS: optionalInt('BATCH_MAX_ROWS', 1, 1_000_000),
    API_KEY_HASHES: list(
      'API_KEY_HASHES',
      /^[0-9a-fA-F]{64}$/,
      'a comma-separated list of hex SHA-256 hashes (64 hex digits each)',
    ),
    ALLOW_ANONYMOUS: bool('ALLOW_ANONYMOUS', false),
    RATE_LIMIT_MAX: int('RATE_LIMIT_MAX', 0, 10_000_000, 600),
    RATE_LIMIT_WINDOW_MS: int('RATE_LIMIT_WINDOW_MS', 1000, 86_400_000, 60_000),
    // Up to how many gateway instances run at once (the auto scaling group's MaxSize: 01-gateway.config sets both).
    // Without REDIS_URL each allows RATE_LIMIT_MAX / RATE_LIMIT_INSTANCES, so the fleet's total holds.
    RATE_LIMIT_INSTANCES: int('RATE_LIMIT_INSTANCES', 1, 10_000, 1),
    // When Redis fails: local (count on this instance, its share of the budget), open (no limit) or closed (500s).
    RATE_LIMIT_ON_STORE_ERROR: z
      .enum(['local', 'open', 'closed'], { error: 'RATE_LIMIT_ON_STORE_ERROR must be local, open or closed' })
      .optional(),
    // Older spelling of the same decision: true = open, false = closed (RATE_LIMIT_ON_STORE_ERROR wins).
    RATE_LIMIT_FAIL_OPEN: optionalBool('RATE_LIMIT_FAIL_OPEN'),
    REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'REDIS_URL must be a redis:// or rediss:// URL' }).optional(),
    CORS_ORIGINS: list(
      'CORS_ORIGINS',
      /^https?:\/\/[^/\s,]+$/,
      'a comma-separated list of origins like https://app.example.com (scheme and host, no path)',
    ),
    TRUST_PROXY: int('TRUST_PROXY', 0, 10, 0),
    // Seconds of Strict-Transport-Security on every answer; 0 (the default) sends none: only set it when served over
    // HTTPS (the generated 02-network.config does, with a certificate).
    HSTS_MAX_AGE: int('HSTS_MAX_AGE', 0, 63_072_000, 0),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .optional()
      .transform((v) => v ?? 'info'),
    DRAIN_TIMEOUT_MS: int('DRAIN_TIMEOUT_MS', 0, 600_000, 15_000),
    READY_CACHE_MS: int('READY_CACHE_MS', 0, 600_000, 2000),
  })
  .superRefine(
    (env, ctx) => {
      // Runs even when other variables are bad (see `when`), so all mistakes are reported in one go; fields that
      // failed their own parsing may hold raw values here, hence the defensive checks.
      const hashes = Array.isArray(env.API_KEY_HASHES) ? env.API_KEY_HASHES : [];
      if (hashes.length === 0 && env.ALLOW_ANONYMOUS !== true) {
        ctx.addIssue({
          code: 'custom',
          path: ['API_KEY_HASHES'],
          message:
            'API_KEY_HASHES must list at least one key hash, or set ALLOW_ANONYMOUS=true to run without API keys on purpose',
        });
      }
      if (
        typeof env.RETRY_MAX_MS === 'number' &&
        typeof env.RETRY_BASE_MS === 'number' &&
        env.RETRY_MAX_MS < env.RETRY_BASE_MS
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['RETRY_MAX_MS'],
          message: 'RETRY_MAX_MS must be at least RETRY_BASE_MS',
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  );

export type Config = z.output<typeof EnvSchema>;

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Only the variables this schema knows are read, so unrelated environment noise cannot fail start-up. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Config> = {},
): Config {
  const known: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = env[key];
    // An empty variable means "not set": that is how `eb setenv X=` clears a value.
    if (value !== undefined && value !== '') known[key] = value;
  }
  const result = EnvSchema.safeParse(known);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  return { ...result.data, ...overrides };
}
