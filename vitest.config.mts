import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Plans run the real program under mocks; each takes about a second on a shared 2-core box.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Pulumi's runtime keeps global state: one test file per worker process, files in parallel.
    pool: "forks",
    // Vitest's default (cores - 1) runs files one at a time on 2 cores. Measured on a quiet 2-core
    // box with the plan cache warm: 1 worker 79 s wall, 2 workers 54 s, same CPU. Many files wait on
    // spawned CLIs and git, so a second worker overlaps that.
    maxWorkers: 2,
  },
});
