import { describe, expect, it } from "vitest";
import { formatDuration, formatPhone, secondsBetween, slaText, telHref } from "./format";
import { backoffDelay } from "./backoff";

describe("formatDuration", () => {
  it("reads as m:ss under an hour and h:mm:ss above", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(3600 + 62)).toBe("1:01:02");
    expect(formatDuration(null)).toBe("—");
  });
});

describe("formatPhone", () => {
  it("groups Indian and North American numbers, leaves others", () => {
    expect(formatPhone("+919876543210")).toBe("+91 98765 43210");
    expect(formatPhone("+14155550100")).toBe("+1 415 555 0100");
    expect(formatPhone("1800-123")).toBe("1800-123");
    // every country, by its own grouping
    expect(formatPhone("+390669821234")).toBe("+39 06 6982 1234");
    expect(formatPhone("+8613812345678")).toBe("+86 138 1234 5678");
    expect(formatPhone("+443308186690")).toBe("+44 330 818 6690");
    expect(formatPhone("+5511987654321")).toBe("+55 11 98765 4321");
    expect(formatPhone(null)).toBe("—");
  });
});

describe("secondsBetween", () => {
  it("counts from a start to now or to an end", () => {
    const now = Date.parse("2026-01-01T00:01:00Z");
    expect(secondsBetween("2026-01-01T00:00:00Z", null, now)).toBe(60);
    expect(secondsBetween("2026-01-01T00:00:00Z", "2026-01-01T00:00:30Z")).toBe(30);
    expect(secondsBetween("garbage")).toBeNull();
  });
});

describe("slaText", () => {
  const now = Date.parse("2026-01-01T10:00:00Z");
  it("shows time left, then overdue as a breach", () => {
    expect(slaText("2026-01-01T10:30:00Z", now)).toEqual({ text: "30 min left", breached: false });
    expect(slaText("2026-01-01T08:55:00Z", now)).toEqual({ text: "overdue 1 h 5 min", breached: true });
    expect(slaText(null, now)).toBeNull();
  });
  it("is breached the moment the due time passes, not a minute later", () => {
    expect(slaText("2026-01-01T09:59:50Z", now)).toEqual({ text: "overdue <1 min", breached: true });
    expect(slaText("2026-01-01T10:00:10Z", now)).toEqual({ text: "1 min left", breached: false });
  });
});

describe("backoffDelay", () => {
  it("grows exponentially, is capped, and is jittered", () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    expect(backoffDelay(20, () => 1)).toBe(30_000);
    const spread = new Set(Array.from({ length: 20 }, (_, i) => backoffDelay(4, () => i / 20)));
    expect(spread.size).toBe(20);
  });
});

describe("telHref", () => {
  it("links numbers that can be dialled", () => {
    expect(telHref("+919876543210")).toBe("tel:+919876543210");
    expect(telHref("1800-123")).toBe("tel:1800123");
    expect(telHref("anonymous")).toBeNull();
    expect(telHref(null)).toBeNull();
  });
});
