import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { ColumnDef } from "@tanstack/react-table";
import type { Call } from "../api/types";
import { callKey } from "../stream/apply";
import { CallTable } from "./CallTable";

// jsdom lays nothing out: the grid is given a 400 px viewport (ten rows and
// the overscan), and scrolling it is watched.
const scrolls: unknown[] = [];
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 400 });
  Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 800 });
  HTMLElement.prototype.scrollTo = function (opts?: unknown) {
    scrolls.push(opts);
  } as typeof HTMLElement.prototype.scrollTo;
});
afterAll(() => {
  // Element.prototype's own (zero) sizes show through again.
  const proto = HTMLElement.prototype as unknown as Record<string, unknown>;
  delete proto.clientHeight;
  delete proto.clientWidth;
});
afterEach(() => {
  cleanup();
  scrolls.length = 0;
});

function call(n: number, over: Partial<Call> = {}): Call {
  const t = new Date(Date.UTC(2026, 11, 4, 9, 0, n)).toISOString();
  return {
    id: n,
    call_id: `C${n}`,
    department: "sales",
    attempts: 0,
    created_at: t,
    started_at: t,
    updated_at: t,
    events_count: 1,
    metadata: {},
    version: 1,
    status: "ringing",
    ...over,
  } as Call;
}

const columns: ColumnDef<Call, unknown>[] = [
  { id: "id", header: "Call", accessorFn: (c) => c.call_id, cell: ({ getValue }) => getValue() as string },
  {
    id: "started",
    header: "Started",
    accessorFn: (c) => c.started_at ?? c.created_at,
    sortingFn: "basic",
    cell: ({ row }) => <span className={`status ${row.original.status}`}>{row.original.status}</span>,
  },
];
const byStarted = [{ id: "started", desc: false }];

function Table({ calls, selected, onSelect }: { calls: Call[]; selected: string | null; onSelect?: () => void }) {
  return (
    <CallTable
      calls={calls}
      columns={columns}
      label="Calls"
      selected={selected}
      onSelect={onSelect ?? (() => undefined)}
      onOpen={() => undefined}
      sorting={byStarted}
      onSortingChange={() => undefined}
      empty="None"
    />
  );
}

const selectedId = () => document.querySelector('tr[aria-selected="true"]')?.getAttribute("data-call-id");

describe("CallTable", () => {
  it("keeps the selection on its call while calls come and go, and never scrolls for them", () => {
    const calls = Array.from({ length: 200 }, (_, i) => call(i + 10));
    const { rerender } = render(<Table calls={calls} selected={callKey(calls[3]!)} />);
    expect(selectedId()).toBe("C13");
    expect(document.querySelectorAll("tr[data-call-id]").length).toBeLessThan(40);
    // (The virtualizer puts the new table at its top once.)
    scrolls.length = 0;
    // Calls that sort above it arrive, one above it ends: the rows shift, the selection does not.
    const next = [call(1), call(2), ...calls.filter((c) => c.call_id !== "C11")];
    rerender(<Table calls={next} selected={callKey(calls[3]!)} />);
    expect(selectedId()).toBe("C13");
    expect(document.querySelector('tr[data-call-id="C13"]')?.getAttribute("aria-rowindex")).toBe("5");
    expect(scrolls).toEqual([]);
    // The selected call left: no row is selected (not the call that took its row).
    rerender(<Table calls={next.filter((c) => c.call_id !== "C13")} selected={callKey(calls[3]!)} />);
    expect(selectedId()).toBeUndefined();
    expect(scrolls).toEqual([]);
  });

  it("moves the selection by key from the call, and brings it into view", () => {
    const calls = Array.from({ length: 200 }, (_, i) => call(i + 10));
    const onSelect = vi.fn();
    render(<Table calls={[...calls].reverse()} selected={callKey(calls[3]!)} onSelect={onSelect} />);
    fireEvent.keyDown(screen.getByTestId("grid"), { key: "ArrowDown" });
    expect(onSelect).toHaveBeenLastCalledWith(calls[4], 4);
    fireEvent.keyDown(screen.getByTestId("grid"), { key: "End" });
    expect(onSelect).toHaveBeenLastCalledWith(calls[199], 199);
    expect(scrolls.length).toBeGreaterThan(0);
    // A click selects the call of its row.
    fireEvent.click(screen.getByText("C15"));
    expect(onSelect).toHaveBeenLastCalledWith(calls[5], 5);
  });

  it("with nothing chosen, the first row has the cursor", () => {
    const calls = Array.from({ length: 5 }, (_, i) => call(i + 10));
    render(<Table calls={calls} selected={null} />);
    expect(selectedId()).toBe("C10");
  });

  it("updates a changed call's cells in place", () => {
    const calls = Array.from({ length: 50 }, (_, i) => call(i + 10));
    const { rerender } = render(<Table calls={calls} selected={null} />);
    const badge = document.querySelector('tr[data-call-id="C12"] .status');
    expect(badge?.textContent).toBe("ringing");
    rerender(
      <Table calls={calls.map((c) => (c.call_id === "C12" ? { ...c, status: "active" } : c))} selected={null} />,
    );
    // The same element, changed (a new cell would remount everything in the row).
    expect(document.querySelector('tr[data-call-id="C12"] .status')).toBe(badge);
    expect(badge?.textContent).toBe("active");
  });
});
