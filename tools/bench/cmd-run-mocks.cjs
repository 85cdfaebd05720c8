// Preloaded with `node --require` in front of the SDK's own program runner (@pulumi/pulumi/cmd/run),
// so the runner loads and runs the program exactly as under `pulumi preview`, but against the
// offline mocks instead of an engine. The parent (preview-load.ts) passes what the engine would,
// and the mocks already compiled to JavaScript: no TypeScript hook of ours may be registered here,
// or it would be measured in place of the loader under test.
"use strict";
const pulumi = require("@pulumi/pulumi");
const settings = require("@pulumi/pulumi/runtime/settings");
const { PlatformMocks } = require(process.env.ZP_MOCKS_MODULE);

const env = process.env;
const mocks = new PlatformMocks(env.ZP_MOCK_REGION, JSON.parse(env.ZP_MOCK_STACK_OUTPUTS));
// Which resources the program registered, so a run that loaded nothing cannot pass for a fast one.
const registered = [];
const newResource = mocks.newResource.bind(mocks);
mocks.newResource = (args) => (registered.push(args.type), newResource(args));
if (env.ZP_MOCK_REPORT) process.on("exit", () => require("node:fs").writeFileSync(env.ZP_MOCK_REPORT, JSON.stringify({ registered })));
pulumi.runtime.setMocks(
  mocks,
  env.ZP_MOCK_PROJECT,
  env.ZP_MOCK_STACK,
  true,
  env.ZP_MOCK_ORGANIZATION,
);
// The runner tells the engine it is done; the mock monitor has no such call.
const monitor = settings.getMonitor();
monitor.signalAndWaitForShutdown ??= (_request, callback) => callback(null, {});
