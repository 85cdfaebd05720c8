// `npm run announce -- --stack <stack> --record deploy-record.json [--dry-run]`: after a deploy, the
// announcement its record calls for ("staging upgraded, please test", "prod upgraded, upgrade your
// client", "rolled back", "upgrade did not complete"; nothing when no version moved), posted to the
// stack's announcementChannel.
// `npm run announce -- --planned --to X.Y.Z [--from X.Y.Z] --print`: the announcement an upgrade PR
// carries (what changes for users, the client to install, when staging, testing and prod move);
// --from defaults to prod's pin, the move users on prod will see.
// Either prints the exact text; --dry-run posts nothing, --print prints only the text. --dossier <upgrade-notes --json output>
// gives the dossier; without it one is built from the releases' wheels when they can be had.
// Exit 0 posted or nothing to post, 1 posting failed, 2 bad usage.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { UsageError, printUsage, runTool, type CliEnv, type CliIo, type ToolSpec } from "../cli-io";
import { parseRecord } from "../gitops/deploy-record";
import { PinFileError, readPin } from "../gitops/pin-file";
import { StackFileError, readStackConfig } from "../offline/stack-files";
import { timingFromStackFile } from "../gitops/prod-timing";
import { summarize } from "../gitops/workflow-commands";
import { buildDossier, type Dossier } from "../upgrade-notes/dossier";
import { describeChannel, markdownOf, parseChannel, post, type PostEnv } from "./post";
import { afterDeploy, type Announcement, planned, scrub, type Servers } from "./text";

const USAGE =
  "usage: npm run --silent announce -- (--stack <stack> --record deploy-record.json | --planned --to X.Y.Z [--from X.Y.Z]) [--dossier dossier.json | --no-dossier] [--dry-run | --print] [--dir .]";

const TOOL: ToolSpec = {
  name: "announce",
  usage: USAGE,
  badInput: (err) => err instanceof StackFileError || err instanceof PinFileError,
};

function dossierOf(
  values: { dossier?: string; "no-dossier"?: boolean },
  dir: string,
  from: string | null,
  to: string,
): Dossier | undefined {
  if (values.dossier) return JSON.parse(fs.readFileSync(values.dossier, "utf8")) as Dossier;
  if (values["no-dossier"] || from === null || from === to) return undefined;
  try {
    return buildDossier(dir, from, to);
  } catch {
    return undefined; // offline or an unknown release: the text says where the dossier is
  }
}

/** `now` and `poster` stand in for the clock and the channels in tests. */
export async function main(
  argv: string[],
  io: CliIo,
  env: CliEnv,
  now = () => new Date(),
  poster: Omit<PostEnv, "env"> = {},
): Promise<number> {
  return runTool(TOOL, io, () => announce(argv, io, env, now, poster));
}

async function announce(
  argv: string[],
  io: CliIo,
  env: CliEnv,
  now: () => Date,
  poster: Omit<PostEnv, "env">,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      record: { type: "string" },
      planned: { type: "boolean" },
      from: { type: "string" },
      to: { type: "string" },
      dossier: { type: "string" },
      "no-dossier": { type: "boolean" },
      "dry-run": { type: "boolean" },
      print: { type: "boolean" },
      dir: { type: "string", default: process.cwd() },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return printUsage(TOOL, io);
  if (!values.planned === !values.record) throw new UsageError("give --record or --planned");
  if (values.record && values.stack !== "staging" && values.stack !== "prod")
    throw new UsageError("--stack must be staging or prod with --record");
  if (values.planned && !values.to) throw new UsageError("--planned needs --to");
  const dir = values.dir;
  const config = (stack: string, key: string) => readStackConfig(dir, stack).values[`zenml-platform:${key}`] ?? "";
  const servers: Servers = {
    staging: `https://${config("staging", "serverHostname")}`,
    prod: `https://${config("prod", "serverHostname")}`,
  };
  const prodTiming = timingFromStackFile(readPin(path.join(dir, "Pulumi.prod.yaml")).text);
  let announcement: Announcement | undefined;
  let channelText: string;
  if (values.planned) {
    const from = values.from ?? readPin(path.join(dir, "Pulumi.prod.yaml")).pin.value;
    announcement = planned(from, values.to!, servers, prodTiming, dossierOf(values, dir, from, values.to!), now());
    channelText = config("staging", "announcementChannel");
  } else {
    const record = fs.existsSync(values.record!) ? parseRecord(fs.readFileSync(values.record!, "utf8")) : undefined;
    if (!record) {
      io.stderr(`announce: ${values.record} is not a deploy record (did the deploy record step run?)\n`);
      return 2;
    }
    const stack = values.stack as "staging" | "prod";
    const up = record.checks.find((c) => c.name === "up")?.outcome ?? "skipped";
    const failedChecks = record.checks.filter((c) => c.name !== "up" && c.outcome !== "success").map((c) => c.name);
    const facts = {
      stack,
      from: record.from,
      to: record.to,
      up,
      failedChecks,
      recordedAt: record.recordedAt ? new Date(record.recordedAt) : now(),
      secondsDown: record.downtime?.secondsDown,
    };
    announcement = afterDeploy(
      facts,
      servers,
      prodTiming,
      stack === "staging" && up === "success" ? dossierOf(values, dir, record.from, record.to) : undefined,
    );
    channelText = config(stack, "announcementChannel");
  }
  if (!announcement) {
    io.stdout("announce: nothing to announce (no version moved, or a failed deploy that was not an upgrade)\n");
    return 0;
  }
  const safe = {
    ...announcement,
    title: scrub(announcement.title, servers, env),
    body: scrub(announcement.body, servers, env),
  };
  const channel = parseChannel(channelText);
  const text = markdownOf(safe);
  if (values.print) {
    io.stdout(text);
    return 0;
  }
  if (values["dry-run"]) {
    io.stdout(`announce: dry run, nothing posted; it would go to ${describeChannel(channel)}:\n\n${text}`);
    return 0;
  }
  try {
    const where = await post(channel, safe, { env, ...poster });
    io.stdout(`announce: ${safe.event} posted to ${where}:\n\n${text}`);
    summarize(`### Announcement (${where})\n\n${text}`, env);
    return 0;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    io.stderr(
      `announce: posting to ${describeChannel(channel)} failed: ${scrub(
        String(e.stderr ?? "")
          .trim()
          .split("\n")
          .pop() || e.message.split("\n")[0],
        servers,
        env,
      )}\n`,
    );
    io.stdout(text);
    return 1;
  }
}
