// Prod's timing settings read from a stack file, and the deploy job's last look before `pulumi up`:
// the gate ran before the approval, which may come hours later, outside the upgrade window.
//   npm run --silent upgrade-window -- --stack prod --from <X.Y.Z|none> [--dir .]
// Exit 0 when the deploy may start (inside the window, no window, overridden, or not an upgrade),
// 1 with one line when it must wait, 2 on bad usage.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseDocument } from "yaml";
import { timingChecks, type TimingSettings, timingSettings } from "../../components/prod-window";
import { UsageError, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { PinFileError, readPin } from "./pin-file";
import { annotationLine } from "./workflow-commands";

/** promotionSoakHours, upgradeWindow and upgradeTimingOverrideReason as a stack file's text sets them (Pulumi.yaml's defaults otherwise). */
export function timingFromStackFile(text: string): TimingSettings {
  const doc = parseDocument(text);
  return timingSettings((key) => doc.getIn(["config", `zenml-platform:${key}`]));
}

const USAGE = "usage: npm run --silent upgrade-window -- --stack <stack> --from <X.Y.Z|none> [--dir .]";

const TOOL: ToolSpec = { name: "upgrade-window", usage: USAGE, badInput: (err) => err instanceof PinFileError };

/** `now` stands in for the clock in tests. */
export async function main(argv: string[], io: CliIo, _env: CliEnv, now = () => new Date()): Promise<number> {
  return runTool(TOOL, io, () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        from: { type: "string" },
        dir: { type: "string", default: process.cwd() },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) {
      io.stdout(
        `${USAGE}\nRefuses to start an upgrade outside the stack's upgradeWindow unless upgradeTimingOverrideReason names the version (the soak was the gate's to check).\n`,
      );
      return 0;
    }
    if (!values.stack || values.from === undefined) throw new UsageError("--stack and --from are required");
    const file = readPin(path.join(values.dir, `Pulumi.${values.stack}.yaml`));
    const from = values.from === "none" || values.from === "" ? null : values.from;
    // The soak only grows while the approval waits; the gate already proved it.
    const soakDone = { ...timingFromStackFile(file.text), soakHours: 0 };
    const window = timingChecks(from, file.pin.value, now(), soakDone, () => ({ ms: 0 })).find(
      (c) => c.name === "upgrade window",
    )!;
    if (!window.ok) {
      io.stdout(annotationLine("error", `${values.stack}: outside the upgrade window`, window.detail) + "\n");
      io.stderr(`upgrade-window: ${window.detail}\n`);
      return 1;
    }
    if (window.detail.startsWith("OVERRIDDEN"))
      io.stdout(annotationLine("warning", `${values.stack}: upgrade window overridden`, window.detail) + "\n");
    io.stdout(`upgrade-window: ${window.detail}\n`);
    return 0;
  });
}
