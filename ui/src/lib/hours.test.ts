import { describe, expect, it } from "vitest";
import { draftToHours, hoursToDraft } from "./hours";

describe("business hours draft", () => {
  it("round-trips the server's shape", () => {
    const cfg = {
      time_zone: "Europe/London",
      weekly: { mon: [["09:00", "13:00"] as [string, string], ["14:00", "18:00"] as [string, string]] },
      holidays: ["2026-12-25"],
    };
    const d = hoursToDraft(cfg);
    expect(d.enabled).toBe(true);
    expect(d.days.mon).toBe("09:00-13:00, 14:00-18:00");
    expect(draftToHours(d)).toEqual({ value: cfg, errors: {} });
  });

  it("off means 24×7 (null)", () => {
    expect(draftToHours(hoursToDraft(null)).value).toBeNull();
  });

  it("names the day with a bad interval", () => {
    const d = { ...hoursToDraft(null), enabled: true, timeZone: "UTC" };
    expect(draftToHours({ ...d, days: { ...d.days, tue: "9am-5pm" } }).errors.tue).toMatch(/Tuesday/);
    expect(draftToHours({ ...d, days: { ...d.days, wed: "18:00-09:00" } }).errors.wed).toMatch(/ends before/);
    expect(draftToHours({ ...d, days: { ...d.days, thu: "09:00-13:00, 12:00-18:00" } }).errors.thu).toMatch(/overlap/);
    expect(draftToHours({ ...d, holidays: "25/12/2026" }).errors.holidays).toMatch(/YYYY-MM-DD/);
    const closed = { mon: "", tue: "", wed: "", thu: "", fri: "", sat: "", sun: "" };
    expect(draftToHours({ ...d, days: closed }).errors.mon).toMatch(/at least one/);
  });
});
