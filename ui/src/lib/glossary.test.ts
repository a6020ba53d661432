import { describe, expect, it } from "vitest";
import { define, parseGlossary } from "./glossary";

describe("the glossary", () => {
  it("defines every figure the tiles show, from docs/METRICS.md", () => {
    for (const f of [
      "offered",
      "answered",
      "abandoned",
      "short_abandoned",
      "abandon_rate",
      "service_level",
      "asa_seconds",
      "aht_seconds",
      "longest_current_wait_seconds",
      "missed_today",
      "hangup_today",
      "sla_breached",
      "total_today",
      "completed_today",
      "avg_duration",
    ])
      expect(define(f), f).toBeTruthy();
    expect(define("abandon_rate")).toBe("Abandon rate: abandoned ÷ (offered − short abandons)");
    expect(define("service_level")).not.toMatch(/[`*]/);
  });

  it("reads only the glossary table, one definition per field", () => {
    const md =
      "# M\n## Glossary\n| name | where | definition |\n|---|---|---|\n| A | `a`; `b` | one `x` |\n## Next\n| B | `c` | no |\n";
    expect(parseGlossary(md)).toEqual({ a: "A: one x", b: "A: one x" });
  });
});
