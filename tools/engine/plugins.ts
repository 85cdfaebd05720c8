// The local provider plugins the engine loads instead of downloading the real ones: one folder per
// package holding `pulumi-resource-<package>`, a script that starts tools/engine/provider/main.ts.
// Pulumi.yaml names them in `plugins.providers`, at the SDK packages' versions.
import * as fs from "node:fs";
import * as path from "node:path";
import { PACKAGES, packageVersion } from "./provider/serve";

export interface ProjectPlugin {
  name: string;
  path: string;
  version: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Writes the plugin folders under `dir` and returns Pulumi.yaml's `plugins.providers` entries. */
export function writePlugins(dir: string, projectDir: string): ProjectPlugin[] {
  const loader = path.join(projectDir, "tools", "loader", "register.cjs");
  const main = path.join(projectDir, "tools", "engine", "provider", "main.ts");
  return PACKAGES.map((pkg) => {
    const folder = path.join(dir, pkg);
    fs.mkdirSync(folder, { recursive: true });
    const script = `#!/bin/sh\nexec ${quote(process.execPath)} --require ${quote(loader)} ${quote(main)} ${pkg} "$@"\n`;
    fs.writeFileSync(path.join(folder, `pulumi-resource-${pkg}`), script, { mode: 0o755 });
    return { name: pkg, path: folder, version: packageVersion(pkg) };
  });
}
