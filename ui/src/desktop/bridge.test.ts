import { describe, expect, it } from "vitest";
import { openCallPath } from "./bridge";

describe("openCallPath", () => {
  it("opens a call in its department's worklist", () => {
    expect(openCallPath({ department: "sales", callId: "c 1", voicemail: false })).toBe(
      "/hangup/sales?view=pending&call=c%201",
    );
  });
  it("opens the worklist for a burst of several calls", () => {
    expect(openCallPath({ department: "sales", callId: null, voicemail: false })).toBe("/hangup/sales?view=pending");
  });
  it("opens the department's voicemail inbox for a voicemail", () => {
    expect(openCallPath({ department: "sales desk", callId: "c1", voicemail: true })).toBe(
      "/voicemail?department=sales%20desk",
    );
  });
});
