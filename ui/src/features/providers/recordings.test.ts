import { describe, expect, it } from "vitest";
import { recordingsLine } from "./recordings";

describe("recordingsLine", () => {
  const now = new Date("2026-03-03T12:00:00");
  it("is empty when nothing was ever queued", () => {
    expect(recordingsLine({ pending: 0, fetched: 0, given_up: 0 }, now)).toBeNull();
    expect(recordingsLine(undefined, now)).toBeNull();
  });
  it("says what waits, when it is tried next, and what was given up", () => {
    const next = new Date("2026-03-03T14:05:00").toISOString();
    const line = recordingsLine({ pending: 3, fetched: 0, given_up: 1, next_try_at: next }, now);
    expect(line).toMatch(/^Recordings: 3 waiting, next try \S*:05\b.* · 1 given up$/);
    expect(recordingsLine({ pending: 0, fetched: 2, given_up: 0 }, now)).toBe("Recordings: 2 fetched later");
  });
});
