import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useEffect, useState } from "react";
import { Properties } from "./Properties";
import { docFromFlow, type FlowDoc } from "./model";
import * as H from "./history";

afterEach(cleanup);

const FLOW = {
  name: "t",
  entry: "menu",
  nodes: [
    { id: "menu", type: "menu", say: "Press 1", options: { "1": "q" }, timeout_seconds: 5, retries: 2 },
    { id: "q", type: "queue", department: "sales", on_timeout: "bye" },
    { id: "bye", type: "hangup", say: "Bye" },
    { id: "hours", type: "decision", rules: [], else: "bye" },
  ],
};

let last: FlowDoc | null = null;

/** The panel with a real undo history behind it, as the editor has. */
function Harness({ node, readOnly = false }: { node: string; readOnly?: boolean }) {
  const [h, setH] = useState(() => H.start(docFromFlow(FLOW)));
  const [selected, setSelected] = useState(node);
  useEffect(() => {
    last = h.present;
  }, [h.present]);
  const n = h.present.nodes.find((x) => x.id === selected)!;
  return (
    <>
      <button onClick={() => setH(H.undo)}>test-undo</button>
      <Properties
        doc={h.present}
        node={n}
        errors={n.id === "menu" ? ["menu: no `on_invalid`"] : []}
        departments={["sales", "support"]}
        readOnly={readOnly}
        onEdit={(next, group) => setH((x) => H.push(x, next, group ?? null))}
        onSelect={setSelected}
        onDelete={() => undefined}
      />
    </>
  );
}

const node = (id: string) => last!.nodes.find((n) => n.id === id)!;

describe("properties panel", () => {
  it("shows the menu's typed fields and its problems, and edits them", () => {
    render(<Harness node="menu" />);
    expect(screen.getByRole("alert").textContent).toContain("no `on_invalid`");
    fireEvent.change(screen.getByLabelText("Timeout (seconds)"), { target: { value: "8" } });
    expect(node("menu").timeout_seconds).toBe(8);
    fireEvent.change(screen.getByLabelText("Timeout (seconds)"), { target: { value: "" } });
    expect("timeout_seconds" in node("menu")).toBe(false);
    fireEvent.change(screen.getByLabelText("On invalid digit"), { target: { value: "bye" } });
    expect(node("menu").on_invalid).toBe("bye");
    fireEvent.change(screen.getByLabelText("On invalid digit"), { target: { value: "" } });
    expect("on_invalid" in node("menu")).toBe(false);
  });

  it("adds, re-keys, points and removes menu options", () => {
    render(<Harness node="menu" />);
    fireEvent.click(screen.getByRole("button", { name: "Add option 2" }));
    expect(node("menu").options).toEqual({ "1": "q", "2": "" });
    fireEvent.change(screen.getByLabelText("Node for digit 2"), { target: { value: "bye" } });
    fireEvent.change(screen.getByLabelText("Digit of option 2"), { target: { value: "9" } });
    expect(node("menu").options).toEqual({ "1": "q", "9": "bye" });
    fireEvent.click(screen.getByRole("button", { name: "Remove option 1" }));
    expect(node("menu").options).toEqual({ "9": "bye" });
  });

  it("edits decision rules as conditions the server understands", () => {
    render(<Harness node="hours" />);
    fireEvent.click(screen.getByRole("button", { name: "Add rule" }));
    expect(node("hours").rules).toEqual([{ if: { field: "business_hours", op: "is_true" }, next: "" }]);
    fireEvent.change(screen.getByLabelText("Department of rule 1"), { target: { value: "sales" } });
    fireEvent.change(screen.getByLabelText("Node for rule 1"), { target: { value: "q" } });
    expect(node("hours").rules).toEqual([
      { if: { field: "business_hours", op: "is_true", department: "sales" }, next: "q" },
    ]);
    fireEvent.change(screen.getByLabelText("What rule 1 tests"), { target: { value: "caller" } });
    fireEvent.change(screen.getByLabelText("Test of rule 1"), { target: { value: "starts_with" } });
    fireEvent.change(screen.getByLabelText("Value of rule 1"), { target: { value: "+91" } });
    expect(node("hours").rules).toEqual([{ if: { field: "caller", op: "starts_with", value: "+91" }, next: "q" }]);
    fireEvent.change(screen.getByLabelText("What rule 1 tests"), { target: { value: "var" } });
    fireEvent.change(screen.getByLabelText("Variable of rule 1"), { target: { value: "tier" } });
    expect((node("hours").rules as { if: { field: string } }[])[0]!.if.field).toBe("var.tier");
  });

  it("typing in a field is one undo step", () => {
    render(<Harness node="bye" />);
    const say = screen.getByLabelText("Goodbye (optional)");
    for (const v of ["B", "By", "Bye now"]) fireEvent.change(say, { target: { value: v } });
    expect(node("bye").say).toBe("Bye now");
    fireEvent.click(screen.getByRole("button", { name: "test-undo" }));
    expect(node("bye").say).toBe("Bye");
  });

  it("keeps a required field as an empty string and renames references with the id", () => {
    render(<Harness node="q" />);
    fireEvent.change(screen.getByLabelText("Department"), { target: { value: "" } });
    expect(node("q").department).toBe("");
    const id = screen.getByLabelText("Node id");
    fireEvent.change(id, { target: { value: "sales_q" } });
    fireEvent.blur(id);
    expect(last!.nodes.some((n) => n.id === "q")).toBe(false);
    expect(node("menu").options).toEqual({ "1": "sales_q" });
  });

  it("is read only for supervisors", () => {
    render(<Harness node="menu" readOnly />);
    expect((screen.getByLabelText("Timeout (seconds)") as HTMLInputElement).closest("fieldset")!.disabled).toBe(true);
    expect(screen.queryByRole("button", { name: /Delete node/ })).toBeNull();
  });
});
