// The retry information a 429 or 503 carries: Retry-After (RFC 9110: seconds or an HTTP date) and the IETF RateLimit
// fields the gateway sends (draft-ietf-httpapi-ratelimit-headers-08: `RateLimit: "policy";r=0;t=42` and
// `RateLimit-Policy: "policy";q=100;w=60`).

export interface RateLimitInfo {
  /** Requests allowed per window (RateLimit-Policy q). */
  limit?: number;
  /** The window, in seconds (RateLimit-Policy w). */
  windowSeconds?: number;
  /** Requests left in this window (RateLimit r). */
  remaining?: number;
  /** Seconds until the window resets (RateLimit t). */
  resetSeconds?: number;
}

/** Seconds to wait, from a Retry-After value; an HTTP date counts from `now`. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The integer parameters of a structured-field item (`"name";a=1;b=2`): {a: 1, b: 2}. */
function parameters(value: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (value === null) return out;
  // The first item only: the gateway sends one policy.
  for (const part of value.split(',')[0]!.split(';').slice(1)) {
    const m = /^\s*([a-z][a-z0-9_.*-]*)\s*=\s*(\d+)\s*$/.exec(part);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function parseRateLimit(headers: { get(name: string): string | null }): RateLimitInfo | undefined {
  const state = parameters(headers.get('ratelimit'));
  const policy = parameters(headers.get('ratelimit-policy'));
  const info: RateLimitInfo = {};
  if (policy['q'] !== undefined) info.limit = policy['q'];
  if (policy['w'] !== undefined) info.windowSeconds = policy['w'];
  if (state['r'] !== undefined) info.remaining = state['r'];
  if (state['t'] !== undefined) info.resetSeconds = state['t'];
  return Object.keys(info).length > 0 ? info : undefined;
}
