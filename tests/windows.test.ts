import { describe, expect, it } from "vitest";
import { backupOverlapsMaintenance, parseDailyWindow, parseWeeklyWindow } from "../components/windows";

function overlaps(backup: string, maintenance: string): boolean {
  const b = parseDailyWindow(backup);
  const m = parseWeeklyWindow(maintenance);
  if (typeof b === "string" || typeof m === "string") throw new Error(`bad test input: ${String(b)} ${String(m)}`);
  return backupOverlapsMaintenance(b, m);
}

describe("RDS window arithmetic", () => {
  it("accepts windows that only touch end to start", () => {
    expect(overlaps("03:00-04:00", "sun:04:00-sun:05:00")).toBe(false);
    expect(overlaps("02:00-03:00", "sun:04:00-sun:05:00")).toBe(false);
  });

  it("finds an overlap on the maintenance day", () => {
    expect(overlaps("04:30-05:30", "sun:04:00-sun:05:00")).toBe(true);
    expect(overlaps("03:00-04:01", "wed:04:00-wed:05:00")).toBe(true);
  });

  it("finds overlaps across midnight and across the week's end", () => {
    expect(overlaps("23:30-00:30", "mon:00:00-mon:01:00")).toBe(true);
    expect(overlaps("23:30-00:30", "sun:23:45-mon:00:15")).toBe(true);
    expect(overlaps("22:00-23:00", "sun:23:30-mon:00:30")).toBe(false);
  });

  it("finds a maintenance window that contains the whole backup window", () => {
    expect(overlaps("04:10-04:40", "tue:04:00-tue:05:00")).toBe(true);
  });

  it("rejects malformed and too short windows with a reason", () => {
    expect(parseDailyWindow("3:00-4:00")).toMatch(/hh:mm-hh:mm/);
    expect(parseDailyWindow("03:00-03:15")).toMatch(/15 minutes/);
    expect(parseDailyWindow("25:00-26:00")).toMatch(/hh:mm-hh:mm/);
    expect(parseWeeklyWindow("sunday:04:00-sunday:05:00")).toMatch(/ddd:hh:mm/);
    expect(parseWeeklyWindow("sun:04:00-sun:04:10")).toMatch(/10 minutes/);
    expect(parseWeeklyWindow("mon:04:00-wed:05:00")).toMatch(/more than 24 hours/);
  });
});
