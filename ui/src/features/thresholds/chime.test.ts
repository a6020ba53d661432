import { describe, expect, it } from "vitest";
import { chime, chimeTones } from "./chime";

describe("chime", () => {
  it("is higher for red than for amber", () => {
    expect(chimeTones("red")[0]).toBeGreaterThan(chimeTones("amber")[0] ?? 0);
  });
  it("does nothing (and does not throw) without audio", () => {
    expect(() => chime("red")).not.toThrow();
  });
});
