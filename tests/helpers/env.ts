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

/**
 * The same around an asynchronous call (a CLI's main() in-process). The tests of a file run one
 * after another, so no other test sees the variables before they are restored.
 */
export async function withEnvAsync<T>(env: Record<string, string>, call: () => Promise<T>): Promise<T> {
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  try {
    return await call();
  } finally {
    vi.unstubAllEnvs();
  }
}
