import { describe, expect, it } from "vitest";
import { validateUser } from "./forms";

describe("form validation", () => {
  it("users: an agent needs a department; passwords have 8 characters", () => {
    const base = { username: "asha", displayName: "", password: "longenough", role: "agent" as const, departments: [] };
    expect(validateUser(base, true).errors.departments).toMatch(/at least one department/);
    expect(validateUser({ ...base, role: "supervisor" }, true).ok).toBe(true);
    expect(validateUser({ ...base, departments: ["sales"], password: "short" }, true).errors.password).toMatch(/8/);
    expect(validateUser({ ...base, departments: ["sales"], password: "" }, false).ok).toBe(true);
    expect(validateUser({ ...base, username: "a b", departments: ["s"] }, true).errors.username).toMatch(/letters/);
  });
});
