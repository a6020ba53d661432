import { describe, expect, it } from "vitest";
import {
  ADD_OPTION,
  ADD_RULE,
  addNode,
  autoLayout,
  connect,
  deleteNode,
  docFromFlow,
  edgesOf,
  flowBody,
  NODE_INFO,
  NODE_TYPES,
  outputsOf,
  renameNode,
  setField,
  type FlowDoc,
} from "./model";
import { errorsByNode, nearestInDirection, toEdges, toNodes } from "./graph";
import * as H from "./history";

// The "Customer support" template as the server ships it (crates/core/src/ivr/mod.rs), trimmed.
const TEMPLATE = {
  name: "Customer support",
  entry: "welcome",
  nodes: [
    { id: "welcome", type: "welcome", say: "Thank you for calling.", next: "hours", position: { x: 0, y: 0 } },
    {
      id: "hours",
      type: "decision",
      rules: [{ if: { field: "business_hours", op: "is_true", department: "sales" }, next: "main_menu" }],
      else: "goodbye",
      position: { x: 0, y: 120 },
    },
    {
      id: "main_menu",
      type: "menu",
      say: "For sales, press 1. For support, press 2.",
      options: { "2": "support_queue", "1": "sales_queue" },
      timeout_seconds: 5,
      retries: 2,
      on_invalid: "goodbye",
      on_timeout: "sales_queue",
      label: "Main menu",
    },
    { id: "sales_queue", type: "queue", department: "sales", on_timeout: "goodbye", position: { x: -200, y: 360 } },
    { id: "support_queue", type: "queue", department: "support", on_timeout: "goodbye" },
    { id: "goodbye", type: "hangup", say: "Goodbye." },
  ],
};

function doc(): FlowDoc {
  return docFromFlow(TEMPLATE);
}

describe("flow → graph", () => {
  it("draws one edge per node field that names a node, with the server's edge names as handles", () => {
    const edges = edgesOf(doc());
    const ids = edges.map((e) => e.id).sort();
    expect(ids).toEqual(
      [
        "welcome:next",
        "hours:rules[0]",
        "hours:else",
        "main_menu:options.1",
        "main_menu:options.2",
        "main_menu:on_invalid",
        "main_menu:on_timeout",
        "sales_queue:on_timeout",
        "support_queue:on_timeout",
      ].sort(),
    );
    const timeout = edges.find((e) => e.id === "main_menu:on_timeout");
    expect(timeout).toMatchObject({ source: "main_menu", target: "sales_queue", label: "timeout", fallback: true });
    expect(edges.find((e) => e.id === "main_menu:options.1")).toMatchObject({ fallback: false, label: "1" });
  });

  it("orders menu outputs as on a keypad and labels rules by their condition", () => {
    const menu = doc().nodes.find((n) => n.id === "main_menu")!;
    expect(outputsOf(menu).map((o) => o.handle)).toEqual(["options.1", "options.2", "on_invalid", "on_timeout"]);
    const hours = doc().nodes.find((n) => n.id === "hours")!;
    expect(outputsOf(hours)[0]!.label).toBe("business_hours is true");
  });

  it("draws nothing for a field naming a missing node (the validator reports it)", () => {
    const d = setField(doc(), "welcome", "next", "nowhere");
    expect(edgesOf(d).some((e) => e.source === "welcome")).toBe(false);
  });

  it("takes positions from the nodes and lays out the nodes without one, by depth from the entry", () => {
    const d = doc();
    expect(d.layout.welcome).toEqual({ x: 0, y: 0 });
    expect(d.layout.sales_queue).toEqual({ x: -200, y: 360 });
    // main_menu has no position: it is placed, and nothing keeps `position` inside nodes.
    expect(d.layout.main_menu).toBeDefined();
    expect(d.nodes.every((n) => !("position" in n))).toBe(true);
    const laid = autoLayout({ ...d, layout: {} });
    expect(laid.welcome!.y).toBeLessThan(laid.hours!.y);
    expect(laid.hours!.y).toBeLessThan(laid.main_menu!.y);
  });

  it("round-trips: the body sent back is the flow received, positions included", () => {
    const body = flowBody(doc());
    expect(Object.keys(body).sort()).toEqual(["entry", "name", "nodes"]);
    const welcome = body.nodes.find((n) => n.id === "welcome")!;
    expect(welcome).toEqual(TEMPLATE.nodes[0]);
    expect(docFromFlow(body)).toEqual(doc());
  });

  it("marks nodes with their errors, the entry, and the simulator's path", () => {
    const d = doc();
    const errors = errorsByNode([
      { node: "main_menu", code: "menu_no_invalid", message: "no invalid" },
      { node: null, code: "invalid_flow", message: "flow" },
    ]);
    const nodes = toNodes(d, {
      selected: "hours",
      selectedEdge: null,
      errors,
      visited: ["welcome", "hours", "main_menu"],
      readOnly: false,
      measured: {},
    });
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect(byId.get("welcome")!.data.entry).toBe(true);
    expect(byId.get("hours")!.selected).toBe(true);
    expect(byId.get("main_menu")!.data).toMatchObject({ errors: ["no invalid"], visited: true, current: true });
    expect(byId.get("goodbye")!.data.visited).toBe(false);
    const edges = toEdges(d, { selectedEdge: null, visited: ["welcome", "hours", "main_menu"] });
    expect(edges.filter((e) => e.animated).map((e) => e.id)).toEqual(["welcome:next", "hours:rules[0]"]);
    expect(edges.find((e) => e.id === "hours:else")!.className).toBe("fallback");
  });
});

describe("graph → flow", () => {
  it("connecting a handle sets the node's field; disconnecting removes it", () => {
    let d = connect(doc(), "goodbye", "next", "welcome");
    // hangup has no `next`: connect still writes what it is told, the editor only offers real handles.
    d = connect(doc(), "sales_queue", "on_timeout", "support_queue");
    expect(d.nodes.find((n) => n.id === "sales_queue")!.on_timeout).toBe("support_queue");
    d = connect(d, "sales_queue", "on_timeout", null);
    expect("on_timeout" in d.nodes.find((n) => n.id === "sales_queue")!).toBe(false);
  });

  it("the + handle of a menu adds the lowest free digit; of a decision, a rule", () => {
    let d = connect(doc(), "main_menu", ADD_OPTION, "goodbye");
    expect(d.nodes.find((n) => n.id === "main_menu")!.options).toEqual({
      "1": "sales_queue",
      "2": "support_queue",
      "3": "goodbye",
    });
    d = connect(d, "main_menu", "options.2", null);
    expect(d.nodes.find((n) => n.id === "main_menu")!.options).toEqual({ "1": "sales_queue", "3": "goodbye" });
    d = connect(d, "hours", ADD_RULE, "sales_queue");
    const rules = d.nodes.find((n) => n.id === "hours")!.rules as { next: string; if: { field: string } }[];
    expect(rules).toHaveLength(2);
    expect(rules[1]).toEqual({ if: { field: "business_hours", op: "is_true" }, next: "sales_queue" });
    d = connect(d, "hours", "rules[0]", "goodbye");
    expect((d.nodes.find((n) => n.id === "hours")!.rules as { next: string }[])[0]!.next).toBe("goodbye");
  });

  it("deleting a node removes every edge into it and moves the entry", () => {
    let d = deleteNode(doc(), "sales_queue");
    const menu = d.nodes.find((n) => n.id === "main_menu")!;
    expect(menu.options).toEqual({ "2": "support_queue" });
    expect("on_timeout" in menu).toBe(false);
    expect(d.layout.sales_queue).toBeUndefined();
    d = deleteNode(d, "welcome");
    expect(d.entry).toBe("hours");
  });

  it("renaming a node renames every reference, and refuses a taken or bad id", () => {
    const d = renameNode(doc(), "goodbye", "bye");
    if (typeof d === "string") throw new Error(d);
    expect(edgesOf(d).filter((e) => e.target === "bye")).toHaveLength(4);
    expect(JSON.stringify(d.nodes)).not.toContain("goodbye");
    expect(d.layout.bye).toBeDefined();
    expect(renameNode(doc(), "goodbye", "welcome")).toMatch(/already/);
    expect(renameNode(doc(), "goodbye", "1st")).toMatch(/letter/);
    const e = renameNode(doc(), "welcome", "start");
    expect(typeof e !== "string" && e.entry).toBe("start");
  });

  it("new nodes get unique ids, a place and the fields of their type (only fields the server accepts)", () => {
    let d: FlowDoc = { name: "x", entry: "", nodes: [], layout: {} };
    for (const t of NODE_TYPES) {
      const r = addNode(d, t, { x: 0, y: 0 });
      d = r.doc;
      const allowed = new Set(["id", "type", ...NODE_INFO[t].fields.map((f) => f.key)]);
      for (const k of Object.keys(d.nodes.find((n) => n.id === r.id)!)) expect(allowed.has(k), `${t}.${k}`).toBe(true);
    }
    expect(d.entry).toBe("welcome");
    const again = addNode(d, "menu", { x: 1, y: 1 });
    expect(again.id).toBe("menu_2");
  });
});

describe("keyboard selection", () => {
  it("moves to the nearest node in a direction", () => {
    const d: FlowDoc = {
      name: "",
      entry: "a",
      nodes: ["a", "b", "c", "d"].map((id) => ({ id, type: "play" })),
      layout: { a: { x: 0, y: 0 }, b: { x: 0, y: 200 }, c: { x: 300, y: 200 }, d: { x: 300, y: 0 } },
    };
    expect(nearestInDirection(d, "a", "down")).toBe("b");
    expect(nearestInDirection(d, "a", "right")).toBe("d");
    expect(nearestInDirection(d, "b", "right")).toBe("c");
    expect(nearestInDirection(d, "a", "up")).toBeNull();
  });
});

describe("undo history", () => {
  it("undoes and redoes, and a new edit drops the redo branch", () => {
    let h = H.start(1);
    h = H.push(h, 2, null, 0);
    h = H.push(h, 3, null, 10);
    expect(h.present).toBe(3);
    h = H.undo(h);
    expect(h.present).toBe(2);
    h = H.undo(h);
    expect(h.present).toBe(1);
    expect(H.undo(h)).toBe(h);
    h = H.redo(h);
    expect(h.present).toBe(2);
    h = H.push(h, 9, null, 20);
    expect(h.future).toEqual([]);
    expect(H.redo(h)).toBe(h);
  });

  it("merges edits of one group close in time (typing, dragging) into one step", () => {
    let h = H.start("");
    h = H.push(h, "h", "say", 1000);
    h = H.push(h, "he", "say", 1200);
    h = H.push(h, "hey", "say", 1500);
    expect(h.past).toEqual([""]);
    h = H.push(h, "hey!", "say", 1500 + H.COALESCE_MS + 1);
    expect(h.past).toEqual(["", "hey"]);
    h = H.push(h, "HEY!", "other", 1500 + H.COALESCE_MS + 2);
    expect(H.undo(h).present).toBe("hey!");
  });

  it("keeps at most LIMIT steps", () => {
    let h = H.start(0);
    for (let i = 1; i <= H.LIMIT + 10; i++) h = H.push(h, i, null, i);
    expect(h.past).toHaveLength(H.LIMIT);
    expect(h.past[0]).toBe(10);
  });
});
