import { vi } from "vitest";

/**
 * Runs a synchronous call with these environment variables, restored right after. Synchronous
 * only: nothing else in the worker runs before the restore, so concurrent tests never see them.
 */
export function withEnv<T>(env: Record<string, string>, call: () => T): T {
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  try {
    return call();
  } finally {
    vi.unstubAllEnvs();
  }
}
