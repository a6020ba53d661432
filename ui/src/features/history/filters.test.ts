import { describe, expect, it } from "vitest";
import { activeCount, EMPTY_FILTERS, readFilters, toQuery, writeFilters } from "./filters";
import { localMidnight } from "../../lib/days";

describe("history filters in the address", () => {
  it("round-trip and keep other keys", () => {
    const f = { ...EMPTY_FILTERS, q: "98765", from: "2026-03-01", status: "missed" as const, outcome: "busy" as const };
    const p = writeFilters(new URLSearchParams("call=c1&status=completed"), f);
    expect(p.get("call")).toBe("c1");
    expect(p.get("agent")).toBeNull();
    expect(readFilters(p)).toEqual(f);
    expect(activeCount(f)).toBe(4);
  });

  it("drop what they do not understand", () => {
    const f = readFilters(new URLSearchParams("status=lost&outcome=maybe&from=yesterday&to=2026-13-99x"));
    expect(f).toEqual(EMPTY_FILTERS);
  });
});

describe("toQuery", () => {
  it("takes dates as local days, the last one included", () => {
    const q = toQuery({ ...EMPTY_FILTERS, from: "2026-03-01", to: "2026-03-01" });
    expect(q.from).toBe(new Date(2026, 2, 1).toISOString());
    expect(q.to).toBe(new Date(2026, 2, 2).toISOString());
    expect(localMidnight("")).toBeUndefined();
    expect(toQuery(EMPTY_FILTERS)).toEqual({
      q: undefined,
      from: undefined,
      to: undefined,
      department: undefined,
      status: undefined,
      agent: undefined,
      outcome: undefined,
    });
  });
});
