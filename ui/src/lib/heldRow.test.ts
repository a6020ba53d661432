import { describe, expect, it } from "vitest";
import type { Call } from "../api/types";
import { callKey } from "../stream/apply";
import { selectedIndex, withHeld } from "./heldRow";

function call(id: string, over: Partial<Call> = {}): Call {
  return {
    id: 1,
    call_id: id,
    department: "sales",
    attempts: 0,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    events_count: 1,
    metadata: {},
    version: 1,
    status: "hangup",
    work_state: "pending",
    ...over,
  };
}

describe("withHeld", () => {
  const list = [call("a"), call("c")];
  it("puts the held call back at its row once the list no longer has it", () => {
    const held = { call: call("b", { work_state: "assigned" }), index: 1 };
    expect(withHeld(list, held).map((c) => c.call_id)).toEqual(["a", "b", "c"]);
    expect(withHeld(list, { ...held, index: 9 }).map((c) => c.call_id)).toEqual(["a", "c", "b"]);
  });
  it("prefers the list's copy while the call is listed", () => {
    const listed = [call("a"), call("b", { version: 2 })];
    const out = withHeld(listed, { call: call("b"), index: 0 });
    expect(out.map((c) => [c.call_id, c.version])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
  });
});

describe("selectedIndex", () => {
  const rows = [call("a"), call("b"), call("c")];
  it("follows the selected call wherever it moved", () => {
    expect(selectedIndex(rows, callKey(call("c")), 0)).toBe(2);
  });
  it("stays near where it was when the call left, and is 0 on an empty list", () => {
    expect(selectedIndex(rows, callKey(call("z")), 1)).toBe(1);
    expect(selectedIndex(rows, null, 7)).toBe(2);
    expect(selectedIndex([], "x", 3)).toBe(0);
  });
});
