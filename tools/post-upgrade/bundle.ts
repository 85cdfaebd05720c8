// Writes what the post-upgrade Job's ConfigMap carries (catalogue.json, sources.json) for a stack,
// so the rehearsal and the Python tests run the script on exactly the Job's inputs.
// Usage: tsx tools/post-upgrade/bundle.ts --stack <env> --out <dir>
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { UserFacingError } from "../../components/errors";
import { bundleSources, readCatalogue } from "../../components/post-upgrade/pipeline-catalogue";

const PROJECT_DIR = path.resolve(__dirname, "../..");

export function writeBundle(stack: string, outDir: string): { catalogue: string; sources: string } {
  const catalogue = readCatalogue(PROJECT_DIR, stack);
  const sources = bundleSources(PROJECT_DIR, catalogue);
  fs.mkdirSync(outDir, { recursive: true });
  const files = { catalogue: path.join(outDir, "catalogue.json"), sources: path.join(outDir, "sources.json") };
  fs.writeFileSync(files.catalogue, JSON.stringify(catalogue, null, 2));
  fs.writeFileSync(files.sources, JSON.stringify(sources));
  return files;
}

if (require.main === module) {
  try {
    const { values } = parseArgs({ options: { stack: { type: "string" }, out: { type: "string" } } });
    if (!values.stack || !values.out) throw new UserFacingError("usage: bundle.ts --stack <env> --out <dir>");
    const files = writeBundle(values.stack, values.out);
    process.stdout.write(`${files.catalogue}\n${files.sources}\n`);
  } catch (e) {
    process.stderr.write(`post-upgrade bundle: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
