import { describe, expect, it } from "vitest";
import { validateCategory } from "./forms";

describe("form validation", () => {
  it("categories: name required, sub-categories unique", () => {
    expect(validateCategory({ name: " ", subs: "", order: "" }).errors.name).toMatch(/required/);
    expect(validateCategory({ name: "X", subs: "Sale, sale", order: "" }).errors.subs).toMatch(/twice/);
    expect(validateCategory({ name: "X", subs: "A\nB", order: "3" })).toMatchObject({
      subs: ["A", "B"],
      order: 3,
      errors: {},
    });
  });
});
