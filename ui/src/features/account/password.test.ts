import { describe, expect, it } from "vitest";
import { passwordProblems } from "./PasswordDialog";

describe("the password form", () => {
  it("asks for the current password, 8 characters, a change, and the same twice", () => {
    expect(passwordProblems("", "short", "other")).toEqual({
      current: "Enter the password you use now.",
      next: "At least 8 characters.",
      repeat: "The two new passwords differ.",
    });
    expect(passwordProblems("same-password", "same-password", "same-password").next).toMatch(/other than/);
    expect(passwordProblems("old-password", "new-password-1", "new-password-1")).toEqual({});
  });
});
