import { defineConfig } from "vitest/config";

// Tests that start processes (git, npm, bash, Python, our CLIs as real processes, the policy pack's
// runner) or reach a package registry. Everything else is the fast tier: the program under mocks
// and pure code, guarded by tests/helpers/no-processes.ts. `npm test` runs both.
const PROCESS_TESTS = [
  "tests/cli.test.ts",
  "tests/dockerfiles.test.ts",
  "tests/engine-cli.test.ts",
  "tests/gate-timing.test.ts",
  "tests/gitops-gate.test.ts",
  "tests/gitops-replay.test.ts",
  "tests/gitops-version-change.test.ts",
  "tests/gitops-workflows.test.ts",
  "tests/house-limits.test.ts",
  "tests/image-pinning.test.ts",
  "tests/images-workflow-tools.test.ts",
  "tests/mirror.test.ts",
  "tests/mlflow.test.ts",
  "tests/npm-stand-in.test.ts",
  "tests/plan-cli.test.ts",
  "tests/policy-pack.test.ts",
  "tests/pre-upgrade-record.test.ts",
  "tests/preview-load.test.ts",
  "tests/rehearsal-pins.test.ts",
  "tests/smoke/cli.test.ts",
  "tests/smoke/pipelines.test.ts",
  "tests/release-watch.test.ts",
  "tests/temp-root.test.ts",
  "tests/upgrade-notes.test.ts",
  "tests/upgrade-workflows.test.ts",
];

export default defineConfig({
  test: {
    // One temporary root per run, removed at its end: thousands of folders piled up in /tmp before.
    globalSetup: ["tests/helpers/temp-root.ts", "tests/helpers/python-path.ts"],
    // Plans run the real program under mocks (~0.1 s each warm); a busy shared box can stretch a file a lot.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // A plan allocates short-lived objects by the million: with V8's default 16 MB young generation
    // the scavenger ran ~14% of a plan. Cold fast tier, 3 pairs: 13.8 s against 16.4 s wall.
    execArgv: ["--max-semi-space-size=64"],
    // A worker runs its files one after another in one module graph: each file loading @pulumi/*
    // afresh cost 38 s of CPU in all. Pulumi's global state is reset by each plan (runPlan sets its
    // mocks and config anew), and a file that changes process state (env, cwd) restores it.
    isolate: false,
    // Vitest's default (cores - 1) runs files one at a time on 2 cores. Measured on a quiet 2-core
    // box with the plan cache warm: 1 worker 79 s wall, 2 workers 54 s, same CPU (an older suite);
    // a third worker did not pay now (34.8-35.0 s against 33.5 s, same CPU).
    maxWorkers: 2,
    // Transformed test and source modules are kept on disk by content (node_modules/.experimental-vitest-cache),
    // so a run after an edit re-transforms only what changed: 3.5 s of transform in a run became 0.6 s.
    experimental: { fsModuleCache: true },
    projects: [
      { extends: true, test: { name: "fast", include: ["tests/**/*.test.ts"], exclude: PROCESS_TESTS, setupFiles: ["tests/helpers/no-processes.ts"] } },
      { extends: true, test: { name: "processes", include: PROCESS_TESTS } },
    ],
  },
});
