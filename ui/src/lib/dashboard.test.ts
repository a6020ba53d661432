import { describe, expect, it } from "vitest";
import type { Stats } from "../api/types";
import { counters } from "./dashboard";

const stats: Stats = {
  live: {
    sales: { waiting: 2, ringing: 1, active: 3, missed: 1 },
    billing: { waiting: 0, ringing: 0, active: 1, missed: 0 },
  },
  hangup_pending: { sales: 4, billing: 1 },
  worklist: {},
  departments: {
    sales: {
      total_today: 10,
      completed_today: 5,
      failed_today: 1,
      missed_today: 2,
      hangup_today: 2,
      avg_duration: 61.5,
      sla_breached: 1,
    },
    billing: {
      total_today: 3,
      completed_today: 2,
      failed_today: 0,
      missed_today: 1,
      hangup_today: 0,
      avg_duration: 30,
      sla_breached: 0,
    },
  },
  active_calls: 7,
  total_today: 13,
  completed_today: 7,
  failed_today: 1,
  missed_today: 3,
  hangup_today: 2,
  avg_duration: 52.7,
  sla_breached: 1,
  day_start: "2026-01-01T00:00:00Z",
  seq: 9,
};

describe("counters", () => {
  it("sums every department for the overall row", () => {
    expect(counters(stats)).toMatchObject({ active: 4, waiting: 3, hangupPending: 5, slaBreached: 1, totalToday: 13 });
  });
  it("reads one department", () => {
    expect(counters(stats, "billing")).toMatchObject({
      active: 1,
      waiting: 0,
      hangupPending: 1,
      missed: 1,
      completed: 2,
    });
  });
  it("is all zeros before the first answer", () => {
    expect(counters(undefined).totalToday).toBe(0);
  });
});
