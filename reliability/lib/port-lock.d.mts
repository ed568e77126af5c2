// Types for port-lock.mjs, so the TypeScript tests that share the lock are type-checked.
export function acquirePort8000(options?: {
  timeoutMs?: number;
  onWait?: (ownerPid: number) => void;
}): Promise<() => void>;
