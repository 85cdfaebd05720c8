// The dossiers of the parts AWS runs for us, read against the plan's own objects.
import { describe, expect, it } from "vitest";
import type { Plan } from "../tools/offline/plan";
import { main } from "../tools/upgrade-notes/cli";
import { kubernetesDossier, mysqlDossier, plannedObjects } from "../tools/upgrade-notes/infra-dossier";
import { captureTool } from "./helpers/cli";
import { cachedRunPlan, plan } from "./helpers/plan";

/** The plan with one more resource, as a chart or a hand-written object might add. */
const withResource = (p: Plan, type: string, name: string, inputs: Record<string, unknown> = {}): Plan => ({
  ...p,
  resources: [...p.resources, { urn: `urn:x::${name}`, type, name, parent: null, custom: true, inputs, options: { protect: false, retainOnDelete: false, dependsOn: [], aliases: [] } }],
});

describe("the Kubernetes dossier", () => {
  it("names every API version the plan's objects use, and finds none that 1.35 removes or deprecates", async () => {
    const p = await plan("staging");
    const objects = plannedObjects(p);
    expect(objects.length).toBeGreaterThan(10);
    expect(objects).toContainEqual({ name: "zenml-server-pdb", apiVersion: "policy/v1", kind: "PodDisruptionBudget" });
    expect(objects.some((o) => o.kind === "Release"), "a Helm release is not a Kubernetes object").toBe(false);
    const md = kubernetesDossier(p, "1.34", "1.35");
    expect(md).toMatch(/^## Upgrade dossier: Kubernetes 1\.34 -> 1\.35 \(staging\)/);
    expect(md).toMatch(/EKS standard support for 1\.35 ends on 2027-03-27/);
    expect(md).toMatch(/\*\*None of the \d+ Kubernetes objects the plan registers uses an API version that 1\.35 removes or deprecates\.\*\*/);
    expect(md).toContain("`policy/v1 PodDisruptionBudget`");
    expect(md).toMatch(/chart's own objects .* not checked here/);
  });

  it("flags an object on a removed or a deprecated API version, with what replaces it", async () => {
    const p = withResource(withResource(await plan("staging"), "kubernetes:policy/v1beta1:PodDisruptionBudget", "old-pdb"), "kubernetes:core/v1:Endpoints", "manual-endpoints");
    const md = kubernetesDossier(p, "1.24", "1.25");
    expect(md).toContain("| `old-pdb` | PodDisruptionBudget | `policy/v1beta1` | **removed in 1.25**: use policy/v1 |");
    expect(md).not.toContain("manual-endpoints");
    expect(kubernetesDossier(p, "1.32", "1.33")).toContain("| `manual-endpoints` | Endpoints | `v1` | deprecated since 1.33: move to discovery.k8s.io/v1 EndpointSlice |");
    expect(kubernetesDossier(p, "1.32", "1.33"), "removed long before: not this step's news").not.toContain("old-pdb");
  });

  it("is what npm run upgrade-notes -- --part kubernetes prints, from the stack's plan", async () => {
    const r = await captureTool(main, ["--part", "kubernetes", "--stack", "prod", "--from", "1.34", "--to", "1.35"], {}, cachedRunPlan);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^## Upgrade dossier: Kubernetes 1\.34 -> 1\.35 \(prod\)/);
  });
});

describe("the MySQL dossier", () => {
  it("names the parameter group family change and the variables we set, none removed in 8.4", async () => {
    const md = mysqlDossier(await plan("prod"), "8.0", "8.4");
    expect(md).toContain("- Parameter group family: `mysql8.0` -> `mysql8.4`");
    expect(md).toContain("- Variables this stack sets: `require_secure_transport`.");
    expect(md).toContain("- None of them is removed in 8.4.");
    expect(md).toMatch(/mysql_native_password is no longer enabled by default/);
  });

  it("flags a variable we set that 8.4 removed", async () => {
    const p = withResource(await plan("prod"), "aws:rds/parameterGroup:ParameterGroup", "extra", { family: "mysql8.0", parameters: [{ name: "default_authentication_plugin", value: "mysql_native_password" }] });
    expect(mysqlDossier(p, "8.0", "8.4")).toContain("**Removed in 8.4 and set here: `default_authentication_plugin`**");
  });
});
