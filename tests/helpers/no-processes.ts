// setupFiles of the fast tier: its tests run the program and pure code only. A test that starts a
// process (git, npm, bash, Python, a CLI) belongs to the "processes" project (vitest.config.mts),
// and this makes the mistake fail at once instead of slowing the tier that runs while editing.
import { createRequire, syncBuiltinESMExports } from "node:module";

// The CommonJS object: an imported namespace is frozen, and the ESM view follows this one after the sync.
const childProcess = createRequire(__filename)("node:child_process") as Record<string, unknown>;

const STARTERS = ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const;
for (const name of STARTERS) {
  childProcess[name] = () => {
    throw new Error(`child_process.${name}: the fast test tier starts no processes; list this file in vitest.config.mts's PROCESS_TESTS`);
  };
}
syncBuiltinESMExports();
