import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A file a component ships into the cluster (a script, a start-up file), read from beside the
 * component. `what` names it in the error a checkout without it gets.
 */
export function readPayload(dir: string, file: string, what: string): string {
  const full = path.join(dir, file);
  try {
    return fs.readFileSync(full, "utf8");
  } catch {
    throw new Error(`The ${what} ${full} is missing from this checkout.`);
  }
}
