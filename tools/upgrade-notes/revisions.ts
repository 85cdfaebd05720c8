// The alembic revision graph of a release: which revisions an upgrade from one release to another
// applies, in the order alembic applies them. Pure.
import type { Revision } from "./dossier";

type Graph = Map<string, Revision>;
const parentsOf = (r: Revision) => [...r.down_revisions, ...r.depends_on];

function ancestors(graph: Graph, starts: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const revision = graph.get(id);
    if (revision) stack.push(...parentsOf(revision));
  }
  return seen;
}

export function heads(revisions: Revision[]): string[] {
  const parents = new Set(revisions.flatMap((r) => r.down_revisions));
  return revisions.filter((r) => !parents.has(r.revision)).map((r) => r.revision);
}

/**
 * Revisions the upgrade applies: ancestors of the new release's heads that the old release's
 * heads do not already include, parents before children (merge revisions after all their parents).
 */
export function revisionsBetween(fromRevisions: Revision[], toRevisions: Revision[]): { revisions: Revision[]; warnings: string[] } {
  const graph: Graph = new Map(toRevisions.map((r) => [r.revision, r]));
  const warnings: string[] = [];
  const fromHeads = heads(fromRevisions);
  const toHeads = heads(toRevisions);
  if (toHeads.length > 1) warnings.push(`the new release has ${toHeads.length} migration heads (${toHeads.join(", ")}): alembic needs them merged`);
  const unknown = fromHeads.filter((h) => !graph.has(h));
  if (unknown.length > 0) warnings.push(`the old release's migration head ${unknown.join(", ")} is not in the new release's history: this is not a supported upgrade path`);
  const missing = toRevisions.flatMap((r) => parentsOf(r).filter((p) => !graph.has(p)).map((p) => `${r.revision} revises ${p}, which the wheel does not contain`));
  warnings.push(...missing);
  const done = ancestors(graph, fromHeads.filter((h) => graph.has(h)));
  const wanted = ancestors(graph, toHeads);
  const pending = toRevisions.filter((r) => wanted.has(r.revision) && !done.has(r.revision));
  const order: Revision[] = [];
  const placed = new Set(done);
  // Kahn's algorithm; revisions ready together (sibling branches) in id order, so output is stable.
  while (order.length < pending.length) {
    const ready = pending
      .filter((r) => !placed.has(r.revision) && parentsOf(r).every((p) => placed.has(p) || !graph.has(p)))
      .sort((x, y) => (x.revision < y.revision ? -1 : x.revision > y.revision ? 1 : 0));
    if (ready.length === 0) {
      warnings.push(`the migration graph has a cycle among ${pending.filter((r) => !placed.has(r.revision)).map((r) => r.revision).join(", ")}`);
      break;
    }
    for (const r of ready) {
      order.push(r);
      placed.add(r.revision);
    }
  }
  return { revisions: order, warnings };
}
