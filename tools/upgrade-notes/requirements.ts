// What a release's wheel asks pip to install (its METADATA's Requires-Dist), and what changes
// between two releases, for the dossier. Pure.
import type { WheelMetadata } from "./dossier";

export interface RequirementChange { package: string; group: string; change: "added" | "removed" | "changed"; from: string | null; to: string | null }

interface Requirement { name: string; spec: string; extra: string | null; selfExtras: string[] }

function parseRequirement(line: string): Requirement {
  const [req, marker = ""] = line.split(";", 2).map((s) => s.trim());
  const name = /^[A-Za-z0-9._-]+/.exec(req)?.[0] ?? req;
  const extras = /^[A-Za-z0-9._-]+\s*\[([^\]]*)\]/.exec(req)?.[1] ?? "";
  const extra = /extra\s*==\s*["']([^"']+)["']/.exec(marker)?.[1] ?? null;
  const otherMarker = marker.replace(/\s*(and\s+)?extra\s*==\s*["'][^"']+["']\s*(and\s+)?/, " ").trim();
  const spec = req.slice(name.length).trim() + (otherMarker ? ` ; ${otherMarker}` : "");
  return { name: name.toLowerCase().replace(/[-_.]+/g, "-"), spec: spec || "(any version)", extra, selfExtras: extras.split(",").map((s) => s.trim()).filter(Boolean) };
}

/**
 * What `pip install <project>[<extras>]` asks for (zenml[server] by default): base requirements plus
 * the extras, following <project>[...] self-references.
 */
export function serverRequirements(meta: WheelMetadata | undefined, project = "zenml", wanted: string[] = ["server"]): Map<string, { spec: string; group: string }> {
  const reqs = (meta?.requires_dist ?? []).map(parseRequirement);
  const extras = new Set<string>(wanted);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of reqs) {
      if (r.name === project && r.extra && extras.has(r.extra)) {
        for (const e of r.selfExtras) {
          if (extras.has(e)) continue;
          extras.add(e);
          grew = true;
        }
      }
    }
  }
  const out = new Map<string, { spec: string; group: string }>();
  for (const r of reqs) {
    if (r.name === project || (r.extra !== null && !extras.has(r.extra))) continue;
    const group = r.extra === null ? "base" : `extra ${r.extra}`;
    const prev = out.get(r.name);
    out.set(r.name, prev ? { spec: `${prev.spec}, ${r.spec}`, group: prev.group } : { spec: r.spec, group });
  }
  return out;
}

export function requirementChanges(from: WheelMetadata | undefined, to: WheelMetadata | undefined, project = "zenml", extras: string[] = ["server"]): RequirementChange[] {
  const a = serverRequirements(from, project, extras);
  const b = serverRequirements(to, project, extras);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: RequirementChange[] = [];
  for (const name of names) {
    const before = a.get(name);
    const after = b.get(name);
    if (before?.spec === after?.spec) continue;
    changes.push({ package: name, group: (after ?? before)!.group, change: !before ? "added" : !after ? "removed" : "changed", from: before?.spec ?? null, to: after?.spec ?? null });
  }
  return changes;
}

