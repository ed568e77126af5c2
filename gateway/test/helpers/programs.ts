// The programs the gateway's tests start besides Node, each with what to do when it is missing: said whole, once.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const REDIS_SERVER_HINT =
  'redis-server is not on PATH, and the Redis rate-limit tests start a real one: install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis), then run the tests again.';

/** The full path of `binary` on PATH, or undefined. */
export function findOnPath(binary: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    const candidate = join(dir, binary);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}
