// Watches an environment's CloudWatch alarms for N minutes after a deploy. Pure apart from the
// injected alarm source and clock, so tests drive it with a fake CloudWatch and no network.
import { alarmPrefix } from "../../components/alarms";

export interface AlarmState {
  name: string;
  state: "OK" | "ALARM" | "INSUFFICIENT_DATA";
  reason: string;
}

/** What the watch needs from CloudWatch: the alarms whose names start with a prefix. */
export interface AlarmSource {
  alarms(namePrefix: string): Promise<AlarmState[]>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface WatchOptions {
  stack: string;
  minutes: number;
  intervalSeconds: number;
}

export type WatchResult = { ok: true; alarms: number; polls: number } | { ok: false; message: string };

/** Polls until `minutes` have passed; the first alarm in ALARM ends the watch, naming it. */
export async function watchAlarms(source: AlarmSource, clock: Clock, options: WatchOptions): Promise<WatchResult> {
  const prefix = alarmPrefix(options.stack);
  const deadline = clock.now() + options.minutes * 60_000;
  let polls = 0;
  let count = 0;
  for (;;) {
    const alarms = await source.alarms(prefix);
    polls += 1;
    // No alarms at all means the deploy lost them: watching nothing must not pass.
    if (alarms.length === 0) return { ok: false, message: `no CloudWatch alarms named ${prefix}* exist for stack ${options.stack}` };
    count = alarms.length;
    const firing = alarms.filter((a) => a.state === "ALARM");
    if (firing.length > 0) {
      return { ok: false, message: firing.map((a) => `ALARM ${a.name}: ${oneLine(a.reason)}`).join("\n") };
    }
    if (clock.now() >= deadline) return { ok: true, alarms: count, polls };
    await clock.sleep(Math.min(options.intervalSeconds * 1000, Math.max(0, deadline - clock.now())));
  }
}

const oneLine = (s: string) => {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > 200 ? `${t.slice(0, 199)}…` : t;
};
