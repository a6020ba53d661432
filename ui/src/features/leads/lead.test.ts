import { describe, expect, it } from "vitest";
import { leadName, leadStatus } from "./lead";

describe("leadName", () => {
  it("joins the names present", () => {
    expect(leadName({ lead_id: "1", first_name: " Grace ", last_name: "Hopper" })).toBe("Grace Hopper");
    expect(leadName({ lead_id: "1", first_name: null, last_name: "Hopper" })).toBe("Hopper");
  });
  it("falls back to the lead id", () => {
    expect(leadName({ lead_id: "88001234", first_name: "", last_name: null })).toBe("Lead 88001234");
  });
});

describe("leadStatus", () => {
  it("shows the name with its code", () => {
    expect(leadStatus({ status: "SALE", status_name: "Sale" })).toBe("Sale (SALE)");
  });
  it("shows whichever it has", () => {
    expect(leadStatus({ status: "NEW", status_name: null })).toBe("NEW");
    expect(leadStatus({ status: null, status_name: "New lead" })).toBe("New lead");
    expect(leadStatus({ status: "A", status_name: "A" })).toBe("A");
    expect(leadStatus({ status: null, status_name: null })).toBeNull();
  });
});
