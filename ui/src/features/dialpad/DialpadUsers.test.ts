import { describe, expect, it } from "vitest";
import { parseBulk } from "./DialpadUsers";

describe("parseBulk", () => {
  it("reads comma, tab or semicolon lines and skips blanks and comments", () => {
    expect(parseBulk("# export\n5550001, asha\n\n5550002\travi\n5550003;meera # lead").items).toEqual([
      { external_id: "5550001", username: "asha" },
      { external_id: "5550002", username: "ravi" },
      { external_id: "5550003", username: "meera" },
    ]);
  });
  it("reads an optional third column as the CRM id", () => {
    expect(parseBulk("5550001, asha, SF-005\n5550002, ravi,").items).toEqual([
      { external_id: "5550001", username: "asha", crm_id: "SF-005" },
      { external_id: "5550002", username: "ravi" },
    ]);
  });
  it("names the lines it cannot read", () => {
    expect(parseBulk("5550001\n1,2,3,4").errors).toEqual([
      'Line 1: expected "dialpad user id, user name[, CRM id]"',
      'Line 2: expected "dialpad user id, user name[, CRM id]"',
    ]);
  });
});
