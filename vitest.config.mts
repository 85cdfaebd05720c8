import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Plans run the real program under mocks; each takes about a second on a shared 2-core box.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Pulumi's runtime keeps global state: one test file per worker process, files in parallel.
    pool: "forks",
  },
});
