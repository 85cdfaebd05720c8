import { describe, expect, it } from "vitest";
import { parseConfig } from "../components/config";
import { readStackConfig } from "../tools/offline/stack-files";
import { one, plan, PROJECT_DIR } from "./helpers/plan";

const ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
const VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const ADMIN_VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy";

describe("EKS access entries from config", () => {
  it.each(["staging", "prod"])("%s: the preview role may read the cluster, so a preview diffs Kubernetes resources", async (stack) => {
    const cluster = one(await plan(stack), "eks:index:Cluster");
    expect(cluster.inputs.authenticationMode).toBe("API");
    expect(cluster.inputs.accessEntries).toEqual({
      "viewer-1": {
        principalArn: `arn:aws:iam::123456789012:role/zenml-${stack}-preview`,
        accessPolicies: {
          view: { policyArn: VIEW, accessScope: { type: "cluster" } },
          // Helm keeps its release records as Secrets in the release's namespace.
          release: { policyArn: ADMIN_VIEW, accessScope: { type: "namespace", namespaces: ["zenml"] } },
        },
      },
    });
  });

  it("gives admin to the listed deploy roles", async () => {
    const cluster = one(await plan("staging", { overrides: { clusterAdminRoleArns: '["arn:aws:iam::123456789012:role/zenml-staging-deploy"]' } }), "eks:index:Cluster");
    expect((cluster.inputs.accessEntries as Record<string, unknown>)["admin-1"]).toEqual({
      principalArn: "arn:aws:iam::123456789012:role/zenml-staging-deploy",
      accessPolicies: { admin: { policyArn: ADMIN, accessScope: { type: "cluster" } } },
    });
  });

  const raw = readStackConfig(PROJECT_DIR, "staging").values;
  const errorOf = (overrides: Record<string, string>) => {
    try {
      parseConfig("staging", { ...raw, ...overrides });
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };

  it("refuses what is not an IAM role ARN, a duplicate, and a role in both lists, one line each, all at once", () => {
    const message = errorOf({
      "zenml-platform:clusterAdminRoleArns": '["arn:aws:iam::123456789012:user/alice"]',
      "zenml-platform:clusterViewerRoleArns": '["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/a"]',
    });
    expect(message.split("\n")).toEqual([
      'Invalid configuration for stack "staging" (Pulumi.staging.yaml):',
      expect.stringMatching(/^ {2}- zenml-platform:clusterAdminRoleArns: .* \(allowed: a list of IAM role ARNs/),
      expect.stringMatching(/^ {2}- zenml-platform:clusterViewerRoleArns: .* \(allowed: a list of IAM role ARNs/),
    ]);
    const both = errorOf({ "zenml-platform:clusterAdminRoleArns": '["arn:aws:iam::123456789012:role/a"]', "zenml-platform:clusterViewerRoleArns": '["arn:aws:iam::123456789012:role/a"]' });
    expect(both).toMatch(/clusterViewerRoleArns: arn:aws:iam::123456789012:role\/a is also in clusterAdminRoleArns/);
  });

  it("defaults to no entries", () => {
    const withoutKeys = Object.fromEntries(Object.entries(raw).filter(([k]) => !/cluster(Admin|Viewer)RoleArns$/.test(k)));
    const config = parseConfig("staging", withoutKeys);
    expect([config.clusterAdminRoleArns, config.clusterViewerRoleArns]).toEqual([[], []]);
  });
});
