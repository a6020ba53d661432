import { describe, expect, it } from "vitest";
import { validateDisposition } from "./DispositionForm";

describe("validateDisposition", () => {
  const now = Date.parse("2026-06-01T10:00:00Z");
  it("asks for a category", () => {
    expect(validateDisposition({ category: "", outcome: "resolved", next: "" }, now)).toEqual({
      category: "Choose a category.",
    });
  });
  it("asks a callback for its time, and refuses one in the past", () => {
    expect(validateDisposition({ category: "Sales", outcome: "callback", next: "" }, now).next_callback_at).toBe(
      "A callback needs a time.",
    );
    expect(
      validateDisposition({ category: "Sales", outcome: "callback", next: "2020-01-01T10:00" }, now).next_callback_at,
    ).toBe("The callback time is in the past.");
    expect(validateDisposition({ category: "Sales", outcome: "callback", next: "2099-01-01T10:00" }, now)).toEqual({});
  });
});
