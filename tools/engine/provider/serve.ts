// One local provider plugin (aws, random, kubernetes, eks or awsx) for the engine suite: it answers
// with the outputs the offline plan's mocks give (tools/offline/outputs.ts) and diffs with the
// providers' own replacement rules (tools/engine/replacements.ts). Written with
// @pulumi/pulumi/provider; its server leaves Diff's old inputs, DiffConfig, the provider's
// configuration and planned (preview) creates out, so those answers are installed on the gRPC
// service here.
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type * as provider from "@pulumi/pulumi/provider";
import { invokeOutputs, resourceOutputs, type LiveVersionsByPart } from "../../offline/outputs";
import { UNKNOWN, diffInputs, diffKubernetesProvider, type InputDiff } from "../diff";
import { replacePaths } from "../replacements";
import type { constructComponent } from "./components";

// The SDK's generated protobuf modules (no typings for these paths).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const provproto = require("@pulumi/pulumi/proto/provider_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: unknown): unknown } };

export const PACKAGES = ["aws", "random", "kubernetes", "eks", "awsx"] as const;
export type PackageName = (typeof PACKAGES)[number];

/** The SDK version of a package, which the plugin reports as its own. */
export function packageVersion(pkg: PackageName): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.join(`@pulumi/${pkg}`, "package.json")) as { version: string }).version;
}

const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;
const nameOf = (urn: string) => urn.split("::").slice(3).join("::");

/**
 * The file in which the suite writes, before each operation, what AWS runs for the stack about to
 * run (tools/engine/world.ts); the aws plugin answers the program's live reads from it.
 */
export const LIVE_FILE_ENV = "ZENML_ENGINE_LIVE_FILE";

/** What AWS runs now, by part, as the suite last wrote it; nothing written: nothing can be read. */
export function liveVersions(env: NodeJS.ProcessEnv = process.env): LiveVersionsByPart {
  const file = env[LIVE_FILE_ENV];
  return file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as LiveVersionsByPart) : {};
}

/** What the provider was configured with; the region shapes ARNs and addresses, as the mocks' does. */
const configured: { region: string } = { region: "us-east-1" };

type Call = {
  request: {
    getUrn(): string;
    getOlds(): Struct;
    getNews(): Struct;
    getOldInputs?(): Struct | undefined;
    getProperties?(): Struct;
    getPreview?(): boolean;
    getArgs?(): Struct | undefined;
    getVariablesMap?(): Map<string, string>;
  };
};
type Struct = { toJavaScript(): Record<string, unknown> };
type Callback = (err: unknown, value?: unknown) => void;

function diffResponse(diff: InputDiff): unknown {
  const resp = new provproto.DiffResponse();
  resp.setChanges(diff.changed.length > 0 ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE);
  resp.setDiffsList(diff.changed);
  resp.setReplacesList(diff.replaces);
  return resp;
}

/** Diff, DiffConfig and Configure as the real providers answer them. */
function installAnswers(pkg: PackageName, impl: Record<string, unknown>): void {
  impl.diff = (call: Call, callback: Callback) => {
    try {
      const req = call.request;
      // Old inputs, not old state: state echoes inputs but also holds what the provider computed.
      const olds = req.getOldInputs?.()?.toJavaScript() ?? req.getOlds().toJavaScript();
      const type = typeOf(req.getUrn());
      callback(undefined, diffResponse(diffInputs(olds, req.getNews().toJavaScript(), replacePaths(type) ?? [])));
    } catch (err) {
      callback(err);
    }
  };
  impl.diffConfig = (call: Call, callback: Callback) => {
    try {
      const olds = call.request.getOldInputs?.()?.toJavaScript() ?? call.request.getOlds().toJavaScript();
      const news = call.request.getNews().toJavaScript();
      // Kubernetes follows its cluster; the others' configuration changes nothing that is deployed here.
      callback(undefined, diffResponse(pkg === "kubernetes" ? diffKubernetesProvider(olds, news) : { ...diffInputs(olds, news, []), replaces: [] }));
    } catch (err) {
      callback(err);
    }
  };
  const configure = impl.configure as (call: Call, callback: Callback) => void;
  impl.configure = (call: Call, callback: Callback) => {
    const args = call.request.getArgs?.()?.toJavaScript() ?? {};
    const region = typeof args.region === "string" ? args.region : call.request.getVariablesMap?.().get("aws:region");
    if (region) configured.region = region;
    // Like the real providers, answer previews ourselves (planned state) instead of letting the
    // engine echo the inputs: an update then keeps its computed outputs known, as Terraform's plan does.
    configure.call(impl, call, (err, resp) => {
      (resp as { setSupportspreview?(v: boolean): void } | undefined)?.setSupportspreview?.(true);
      callback(err, resp);
    });
  };
  const create = impl.create as (call: Call, callback: Callback) => void;
  impl.create = (call: Call, callback: Callback) => {
    if (!call.request.getPreview?.()) return create.call(impl, call, callback);
    // A planned create: what the program set is known, what the cloud would compute is not.
    try {
      const req = call.request;
      const inputs = req.getProperties!().toJavaScript();
      const { state } = resourceOutputs(typeOf(req.getUrn()), nameOf(req.getUrn()), inputs, configured.region);
      const planned = Object.fromEntries(Object.keys(state).map((k) => [k, k in inputs ? inputs[k] : UNKNOWN]));
      const resp = new provproto.CreateResponse();
      resp.setId("");
      resp.setProperties(Struct.fromJavaScript(planned));
      callback(undefined, resp);
    } catch (err) {
      callback(err);
    }
  };
}

/** Installs the answers above on the provider service the SDK's main() is about to serve. */
export function installGrpcAnswers(pkg: PackageName): void {
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (this: grpc.Server, service: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) {
    if ("construct" in impl && "diffConfig" in impl) installAnswers(pkg, impl as unknown as Record<string, unknown>);
    return addService.call(this, service, impl);
  };
}

/** The provider behind one plugin. */
export function providerFor(pkg: PackageName): provider.Provider {
  const awsVersion = packageVersion("aws");
  const answer = (urn: string, inputs: Record<string, unknown>) => resourceOutputs(typeOf(urn), nameOf(urn), inputs, configured.region);
  return {
    version: packageVersion(pkg),
    check: async (_urn, _olds, news) => ({ inputs: news }),
    create: async (urn, inputs) => {
      const { id, state } = answer(urn, inputs);
      return { id, outs: state };
    },
    update: async (_id, urn, _olds, news) => ({ outs: answer(urn, news).state }),
    read: async (id, _urn, props) => ({ id, props }),
    delete: async () => undefined,
    invoke: async (token, inputs) => ({ outputs: invokeOutputs(token, inputs, configured.region, liveVersions()) }),
    construct: async (name, type, inputs, options) => {
      // Loaded here: only the eks and awsx plugins construct, and the whole SDK costs every plugin's start ~1 s.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const components = require("./components") as { constructComponent: typeof constructComponent; awsRegion(): string | undefined };
      return components.constructComponent(name, type, inputs as Record<string, unknown>, options, components.awsRegion() ?? configured.region, awsVersion);
    },
  };
}
