import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "./plan";

/** A git checkout holding the repository's two stack files at one commit, as the prod gate reads them. */
export function stackFilesCheckout(prefix: string): { cwd: string; head: string } {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const git = (...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
  git("init", "-q");
  for (const f of ["Pulumi.staging.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(cwd, f));
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c1");
  return { cwd, head: git("rev-parse", "HEAD") };
}
