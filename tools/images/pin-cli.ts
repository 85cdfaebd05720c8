// `npm run pin-images -- [--version X.Y.Z ...] [--base] [--record REF ...] [--check] [--registry URL] [--dir .]`
// Exit 0: pinned (or verified); 1: an upstream tag moved, or the registry failed; 2: bad input.
import { parseArgs } from "node:util";
import { UserFacingError } from "../../components/errors";
import { ZENML_SERVER_IMAGE } from "../../components/image-lock";
import { BASE_IMAGE } from "../../components/kit/built-images";
import { printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { StackFileError } from "../offline/stack-files";
import { DOCKER_HUB_REGISTRY, RegistryError, resolveDigest } from "./registry";
import { parseRecord, pinImages, pinnedVersions, recordDigests, type PinOutcome } from "./pin";

const USAGE = `usage: npm run pin-images -- [--version X.Y.Z ...] [--base] [--record REF ...] [--check] [--registry URL] [--dir .]
  Records in images.lock.yaml the digest of ${ZENML_SERVER_IMAGE}:<version> for every version a
  stack file pins (or each --version), so the stacks pull those exact bytes. A recorded digest is
  never rewritten.
  --base          the base image of the images we build instead (${BASE_IMAGE.repository}:${BASE_IMAGE.tag})
  --record REF    record what a build pushed, <repository>:<tag>@sha256:<digest> (the images workflow)
  --check         also re-resolve recorded digests and fail (exit 1) if an upstream tag moved
  --registry URL  registry to ask (default ${DOCKER_HUB_REGISTRY}, which the ECR cache mirrors)
Exit codes: 0 pinned or verified, 1 a tag moved or the registry failed, 2 bad input.
`;

const TOOL: ToolSpec = {
  name: "pin-images",
  usage: USAGE,
  badInput: (err) => err instanceof UserFacingError || err instanceof StackFileError,
};

export async function main(argv: string[], io: CliIo, _env: CliEnv): Promise<number> {
  return runTool(TOOL, io, async () => {
    const { values } = parseArgs({
      args: argv,
      options: {
        version: { type: "string", multiple: true },
        base: { type: "boolean" },
        record: { type: "string", multiple: true },
        check: { type: "boolean" },
        registry: { type: "string", default: DOCKER_HUB_REGISTRY },
        dir: { type: "string", default: process.cwd() },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) return printUsage(TOOL, io);
    let outcomes: PinOutcome[];
    try {
      if (values.record) {
        outcomes = recordDigests(
          values.dir,
          values.record.map((r) => parseRecord(r) ?? badRecord(r)),
        );
      } else {
        const resolve = (repository: string, tag: string) => resolveDigest(values.registry, repository, tag);
        outcomes = values.base
          ? await pinImages(values.dir, [BASE_IMAGE.tag], resolve, values.check ?? false, BASE_IMAGE.repository)
          : await pinImages(values.dir, values.version ?? pinnedVersions(values.dir), resolve, values.check ?? false);
      }
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      io.stderr(`${TOOL.name}: ${err.message}\n`);
      return 1;
    }
    for (const o of outcomes) {
      const image = `${o.repository ?? ZENML_SERVER_IMAGE}:${o.tag}`;
      io.stdout(
        o.status === "moved"
          ? `${image} MOVED upstream: locked ${o.digest}, registry now ${o.upstream}; the lock keeps ${o.digest}\n`
          : `${image} ${o.status} ${o.digest}\n`,
      );
    }
    return outcomes.some((o) => o.status === "moved") ? 1 : 0;
  });
}

function badRecord(text: string): never {
  throw new UserFacingError(`--record "${text.slice(0, 120)}" is not <repository>:<tag>@sha256:<64 hex digits>`);
}
