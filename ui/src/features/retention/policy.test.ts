import { describe, expect, it } from "vitest";
import { policyText } from "./RetentionPage";

describe("policyText", () => {
  it("says what a run does, in words", () => {
    expect(policyText({ calls_days: 30, mode: "archive", raw_days: 7 })).toBe(
      "Finished calls older than 30 days are moved to the archive; raw deliveries older than 7 days are deleted.",
    );
    expect(policyText({ calls_days: 1, mode: "delete", raw_days: 1 })).toBe(
      "Finished calls older than 1 day are deleted; raw deliveries older than 1 day are deleted.",
    );
  });

  it("says 0 keeps everything", () => {
    expect(policyText({ calls_days: 0, mode: "delete", raw_days: 0 })).toBe(
      "Every call is kept; raw deliveries are kept.",
    );
  });
});
