// A local provider plugin's process: `pulumi-resource-<package>` (written by tools/engine/plugins.ts)
// runs `node --require tools/loader/register.cjs tools/engine/provider/main.ts <package> <engine address>`.
import { main } from "@pulumi/pulumi/provider";
import { PACKAGES, installGrpcAnswers, providerFor, type PackageName } from "./serve";

const pkg = process.argv[2] as PackageName;
if (!PACKAGES.includes(pkg)) {
  console.error(`usage: main.ts <${PACKAGES.join("|")}> <engine address>`);
  process.exit(2);
}
installGrpcAnswers(pkg);
void main(providerFor(pkg), process.argv.slice(3));
