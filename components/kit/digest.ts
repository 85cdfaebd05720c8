// Pure: the short digest that names immutable in-cluster objects (payload ConfigMaps, script Jobs).
import { createHash } from "node:crypto";

/** Ten hex characters of sha256 over the parts, NUL-separated: any changed part is a new name. */
export function digestOf(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 10);
}
