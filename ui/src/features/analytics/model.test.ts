import { describe, expect, it } from "vitest";
import { csvField, defuse, intervalFor, pct, rangeFor, toCsv } from "./model";

describe("analytics helpers", () => {
  it("ranges are whole local days ending tomorrow at midnight", () => {
    const now = new Date(2026, 10, 24, 15, 30);
    const today = rangeFor("today", now)!;
    expect(new Date(today.from)).toEqual(new Date(2026, 10, 24));
    expect(new Date(today.to)).toEqual(new Date(2026, 10, 25));
    expect(new Date(rangeFor("7d", now)!.from)).toEqual(new Date(2026, 10, 18));
    expect(new Date(rangeFor("30d", now)!.from)).toEqual(new Date(2026, 9, 26));
    const custom = rangeFor("custom", now, "2026-11-01", "2026-11-03")!;
    expect(new Date(custom.to)).toEqual(new Date(2026, 10, 4));
    expect(rangeFor("custom", now, "2026-11-03", "2026-11-01")).toBeNull();
    expect(rangeFor("custom", now, "", "2026-11-01")).toBeNull();
    expect(intervalFor(today)).toBe("hour");
    expect(intervalFor(rangeFor("7d", now)!)).toBe("day");
  });

  it("formula cells are defused and fields quoted per RFC 4180", () => {
    for (const bad of ["=1+1", "+91", "-2", "@x", "\tx", "\rx"]) expect(defuse(bad)).toBe(`'${bad}`);
    expect(defuse("Asha")).toBe("Asha");
    expect(csvField('say "hi", ok')).toBe('"say ""hi"", ok"');
    expect(csvField(-3)).toBe("-3");
    expect(csvField(null)).toBe("");
    expect(toCsv([{ title: "T", header: ["a", "b"], rows: [["=x", 1]] }])).toBe("T\r\na,b\r\n'=x,1\r\n");
    expect(pct(0.3333)).toBe("33.3%");
    expect(pct(null)).toBe("—");
  });
});
