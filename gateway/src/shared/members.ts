// Cheap refusals and echoed names (docs/contract.md): pure, so the gateway and the client package decide alike.

/** Whether a parsed JSON value has more than `limit` members (counted up to limit + 1: a huge object costs no more). */
export function moreMembersThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  let count = 0;
  for (const _name in value) if (++count > limit) return true;
  return false;
}

/**
 * A member name the client sent, as a pointer may echo it: its first `limit` code points (contract.json's
 * maxEchoedNameLength), then "…". Code points, not UTF-16 units, as the Flask service counts them (a surrogate pair
 * is one), so both cut alike.
 */
export function echoName(name: string, limit: number): string {
  if (name.length <= limit) return name; // at most as many code points as units
  let count = 0;
  let end = 0;
  for (const point of name) {
    if (count === limit) return `${name.slice(0, end)}\u2026`;
    count++;
    end += point.length;
  }
  return name;
}
