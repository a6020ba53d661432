import { describe, expect, it } from "vitest";
import { crossingText, formatValue, fromDrafts, rowKey, toDrafts, worstLevel, type ThresholdState } from "./model";

const state = (
  department: string,
  metric: ThresholdState["metric"],
  level: ThresholdState["level"],
): ThresholdState => ({
  department,
  metric,
  level,
  since: "2026-01-01T00:00:00Z",
});

describe("worstLevel", () => {
  const states = [
    state("sales", "waiting_count", "amber"),
    state("sales", "callbacks_overdue", "red"),
    state("support", "service_level", "ok"),
  ];
  it("takes the worst of a department, or of all", () => {
    expect(worstLevel(states, "sales")).toBe("red");
    expect(worstLevel(states, "support")).toBe("ok");
    expect(worstLevel(states)).toBe("red");
    expect(worstLevel(undefined, "sales")).toBe("ok");
  });
  it("counts only the figures of a queue", () => {
    expect(worstLevel(states, "sales", "live")).toBe("amber");
    expect(worstLevel(states, "sales", "hangup")).toBe("red");
    expect(worstLevel(states, undefined, "live")).toBe("amber");
  });
});

describe("formatValue", () => {
  it("reads each unit", () => {
    expect(formatValue("service_level", 0.8)).toBe("80 %");
    expect(formatValue("abandon_rate", 0.1234)).toBe("12.3 %");
    expect(formatValue("longest_wait_seconds", 125)).toBe("2:05");
    expect(formatValue("provider_quiet_minutes", 12.4)).toBe("12 min");
    expect(formatValue("waiting_count", 5)).toBe("5");
    expect(formatValue("waiting_count", null)).toBe("—");
  });
});

describe("crossingText", () => {
  it("says the level, the value and the limit", () => {
    expect(
      crossingText(
        { department: "sales", metric: "waiting_count", level: "red", previous: "amber", value: 3, threshold: 3 },
        "Sales",
      ),
    ).toBe("Sales: Calls waiting is RED — 3 (≥ 3).");
    expect(
      crossingText(
        { department: "s", metric: "service_level", level: "amber", previous: "ok", value: 0.7, threshold: 0.8 },
        "S",
      ),
    ).toBe("S: Service level is AMBER — 70 % (≤ 80 %).");
  });
});

describe("drafts", () => {
  it("round-trips percentages and keeps other departments' thresholds", () => {
    const cfg = {
      thresholds: [
        {
          department: "sales",
          metric: "service_level" as const,
          amber: 0.8,
          red: 0.6,
          window_minutes: 15,
          quiet_minutes: 5,
        },
        {
          department: "old",
          metric: "waiting_count" as const,
          amber: 1,
          red: null,
          window_minutes: 30,
          quiet_minutes: 10,
        },
      ],
    };
    const d = toDrafts(cfg);
    expect(d[rowKey("sales", "service_level")]).toEqual({ amber: "80", red: "60", window: "15", quiet: "5" });
    const out = fromDrafts(d, ["sales"], cfg.thresholds);
    expect(out.errors).toEqual({});
    expect(out.thresholds).toEqual([
      cfg.thresholds[1],
      { department: "sales", metric: "service_level", amber: 0.8, red: 0.6, window_minutes: 15, quiet_minutes: 5 },
    ]);
  });

  it("leaves out rows with no level and names each bad field", () => {
    const out = fromDrafts(
      {
        [rowKey("sales", "waiting_count")]: { amber: "5", red: "3", window: "30", quiet: "10" },
        [rowKey("sales", "abandon_rate")]: { amber: "120", red: "", window: "0", quiet: "x" },
        [rowKey("sales", "callbacks_overdue")]: { amber: "", red: "", window: "30", quiet: "10" },
      },
      ["sales"],
    );
    expect(out.thresholds).toEqual([]);
    expect(out.errors[rowKey("sales", "waiting_count")]).toEqual({ red: "Red must be at or above amber." });
    expect(out.errors[rowKey("sales", "abandon_rate")]).toEqual({
      amber: "A percentage, 0–100.",
      window: "Whole minutes, 1–1440.",
      quiet: "Whole minutes, 0–1440.",
    });
  });
});
