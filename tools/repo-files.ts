// One walk of the checkout for the tools that look at files by name (the house limits, the
// requirements' pins): relative paths, sorted, never descending into the folders named to skip.
import * as fs from "node:fs";
import * as path from "node:path";

export function repoFiles(root: string, skipDirs: ReadonlySet<string>, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      if (skipDirs.has(d.name)) continue;
      const child = rel ? path.join(rel, d.name) : d.name;
      if (d.isDirectory()) walk(child);
      else if (keep(d.name)) out.push(child);
    }
  };
  walk("");
  return out.sort();
}
