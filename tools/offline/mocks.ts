import * as pulumi from "@pulumi/pulumi";
import { invokeOutputs, resourceOutputs, type LiveVersionsByPart } from "./outputs";

// The outputs themselves live in outputs.ts, shared with the engine suite's local provider plugins.
export { MOCK_ACCOUNT, mockAddonVersion } from "./outputs";

/** Outputs of StackReferences, by fully qualified stack name. */
export type StackOutputsByName = Record<string, Record<string, unknown>>;

/**
 * Stand-ins for AWS and the remote components (tools/offline/outputs.ts), plus what the engine
 * answers itself under `pulumi up`: the outputs of other stacks, given here by hand.
 */
export class PlatformMocks implements pulumi.runtime.Mocks {
  /**
   * @param live what AWS runs for the planned stack, by part (kubernetes, mysql, addon:<name>): the
   *   answers of the program's live reads. A part not given cannot be read (like a cluster not found).
   */
  constructor(
    private readonly region: string,
    private readonly stackOutputs: StackOutputsByName,
    private readonly live: LiveVersionsByPart = {},
  ) {}

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const { type, name, inputs } = args;
    if (type === "pulumi:pulumi:StackReference") {
      const stackName = String(inputs.name ?? args.id ?? name);
      return { id: stackName, state: { name: stackName, outputs: this.stackOutputs[stackName] ?? {}, secretOutputNames: [] } };
    }
    return resourceOutputs(type, name, inputs, this.region);
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    return invokeOutputs(args.token, args.inputs, this.region, this.live);
  }
}
