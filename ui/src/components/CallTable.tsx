// The call grid: TanStack Table for columns, headers and the sort state,
// TanStack Virtual so ten thousand rows render as the thirty on screen.
//
// With many rows, the work of a render must not grow with the list: the
// calls are sorted by CallSorter (which keeps its order between renders and
// merges in what changed), TanStack Table builds rows only for the calls on
// screen, and a row renders again only when its call, its place or its
// selection changed.
import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from "react";
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type Row,
  type SortingState,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { Call } from "../api/types";
import { useSecond } from "../lib/useNow";
import { CallSorter, sortsByTicking } from "./sortCalls";

const ROW_HEIGHT = 38;

/** The row of the call with `key` (callKey: department, NUL, call id), or -1. */
function indexOfKey(rows: readonly Call[], key: string): number {
  const cut = key.indexOf("\u0000");
  const department = key.slice(0, cut);
  const callId = key.slice(cut + 1);
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i] as Call;
    if (c.call_id === callId && c.department === department) return i;
  }
  return -1;
}

/** The calls on screen: the same array as last time while they are the same
 * calls (most patches change none of them), so TanStack Table keeps the rows
 * it made for them. */
class ShownCalls {
  private last: Call[] = [];

  of(rows: readonly Call[], from: number, to: number): Call[] {
    const last = this.last;
    if (last.length === to - from && last.every((c, i) => c === rows[from + i])) return last;
    this.last = rows.slice(from, to);
    return this.last;
  }
}

const CallRow = memo(
  function CallRow({ row, index, selected }: { row: Row<Call>; index: number; selected: boolean; columns: unknown }) {
    return (
      <tr
        data-call-id={row.original.call_id}
        data-department={row.original.department}
        aria-selected={selected}
        aria-rowindex={index + 1}
      >
        {row.getVisibleCells().map((cell) => (
          <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
        ))}
      </tr>
    );
  },
  // The Row object is new at each render; what it shows is its call, drawn
  // by the columns (whose cells read nothing else, or subscribe themselves).
  (a, b) =>
    a.row.original === b.row.original && a.index === b.index && a.selected === b.selected && a.columns === b.columns,
);

export function CallTable({
  calls,
  columns,
  label,
  selected,
  onSelect,
  onOpen,
  onKey,
  initialSort,
  empty,
  manualSorting,
  sorting: controlledSorting,
  onSortingChange,
}: {
  calls: readonly Call[];
  columns: ColumnDef<Call, unknown>[];
  label: string;
  /** The selected call's key (`callKey`); null: none chosen, the first row
   * has the cursor. A selected call that left the list selects no row. */
  selected: string | null;
  /** A row was chosen (click or keys); `index` is its row in the table's order. */
  onSelect: (c: Call, index: number) => void;
  onOpen: (c: Call) => void;
  /** Extra keys handled by the screen (assign, disposition…); return true if used. */
  onKey?: (e: KeyboardEvent, c: Call | undefined) => boolean;
  initialSort?: SortingState;
  empty: string;
  manualSorting?: boolean;
  sorting?: SortingState;
  onSortingChange?: (s: SortingState) => void;
}) {
  const [ownSorting, setOwnSorting] = useState<SortingState>(initialSort ?? []);
  const sorting = controlledSorting ?? ownSorting;
  const [sorter] = useState(() => new CallSorter());
  const ticking = !manualSorting && sortsByTicking(columns, sorting);
  // A sort by a running duration is redone at each tick; other sorts never read the clock.
  const second = useSecond(ticking);
  const epoch = ticking ? second : 0;
  const rows = useMemo(
    () => (manualSorting ? calls : sorter.sort(calls, columns, sorting, epoch)),
    [sorter, manualSorting, calls, columns, sorting, epoch],
  );

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const end = (items[items.length - 1]?.index ?? -1) + 1;
  // Only the calls on screen become table rows.
  const [onScreen] = useState(() => new ShownCalls());
  const shown = useMemo(() => onScreen.of(rows, first, end), [onScreen, rows, first, end]);

  const table = useReactTable({
    data: shown,
    columns,
    state: { sorting },
    onSortingChange: (u) => {
      const next = typeof u === "function" ? u(sorting) : u;
      if (onSortingChange) onSortingChange(next);
      else setOwnSorting(next);
    },
    getCoreRowModel: getCoreRowModel(),
    // Sorted above, over every call.
    manualSorting: true,
    getRowId: (c) => `${c.department}/${c.call_id}`,
  });
  const tableRows = table.getRowModel().rows;

  const selectedIndex = useMemo(
    () => (selected === null ? (rows.length ? 0 : -1) : indexOfKey(rows, selected)),
    [rows, selected],
  );
  // Where the selected call was last seen: the keys move on from there once it left.
  const lastSeen = useRef(0);
  useEffect(() => {
    if (selectedIndex >= 0) lastSeen.current = selectedIndex;
  }, [selectedIndex]);

  const padTop = items[0]?.start ?? 0;
  const padBottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const colCount = table.getVisibleLeafColumns().length;

  const keyDown = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const current = selectedIndex >= 0 ? rows[selectedIndex] : undefined;
    if (onKey?.(e, current)) {
      e.preventDefault();
      return;
    }
    // From a call that left the list: down is the row that took its place.
    const at = selectedIndex >= 0 ? selectedIndex : Math.min(lastSeen.current, rows.length) - 0.5;
    const move = (to: number) => {
      e.preventDefault();
      const i = Math.max(0, Math.min(rows.length - 1, to));
      const c = rows[i];
      if (!c) return;
      onSelect(c, i);
      // The selection moved: it is brought into view. Nothing else scrolls
      // the table (rows coming and going leave it where the person put it).
      virtualizer.scrollToIndex(i, { align: "auto" });
    };
    const by = (n: number) => move(n > 0 ? Math.floor(at + n) : Math.ceil(at + n));
    switch (e.key) {
      case "ArrowDown":
      case "j":
        by(1);
        break;
      case "ArrowUp":
      case "k":
        by(-1);
        break;
      case "Home":
        move(0);
        break;
      case "End":
        move(rows.length - 1);
        break;
      case "PageDown":
        by(15);
        break;
      case "PageUp":
        by(-15);
        break;
      case "Enter":
      case "o":
        if (current) {
          e.preventDefault();
          onOpen(current);
        }
        break;
      default:
        break;
    }
  };

  /** The call of the row an event happened in. */
  const rowOf = (e: MouseEvent): [Call, number] | null => {
    const tr = (e.target as Element).closest("tr[aria-rowindex]");
    const i = Number(tr?.getAttribute("aria-rowindex")) - 1;
    const c = rows[i];
    return c ? [c, i] : null;
  };

  return (
    <div className="grid">
      <div
        className="grid-scroll"
        ref={scrollRef}
        tabIndex={0}
        role="region"
        aria-label={`${label}: use arrow keys to move, Enter to open`}
        onKeyDown={keyDown}
        data-testid="grid"
      >
        <table aria-label={label} aria-rowcount={rows.length}>
          <thead>
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((h) => {
                  const dir = h.column.getIsSorted();
                  const size = h.column.columnDef.size;
                  return (
                    <th
                      key={h.id}
                      style={size ? { width: size } : undefined}
                      aria-sort={dir === "asc" ? "ascending" : dir === "desc" ? "descending" : "none"}
                    >
                      {h.column.getCanSort() ? (
                        <button type="button" onClick={h.column.getToggleSortingHandler()}>
                          {flexRender(h.column.columnDef.header, h.getContext())}
                          <span aria-hidden="true">{dir === "asc" ? "▲" : dir === "desc" ? "▼" : ""}</span>
                        </button>
                      ) : (
                        <span style={{ display: "block", padding: "8px 10px" }}>
                          {flexRender(h.column.columnDef.header, h.getContext())}
                        </span>
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody
            onClick={(e) => {
              const hit = rowOf(e);
              if (hit) onSelect(...hit);
            }}
            onDoubleClick={(e) => {
              const hit = rowOf(e);
              if (hit) onOpen(hit[0]);
            }}
          >
            {padTop > 0 && (
              <tr aria-hidden="true">
                <td colSpan={colCount} style={{ height: padTop, padding: 0, border: 0 }} />
              </tr>
            )}
            {tableRows.map((row, j) => (
              <CallRow
                key={row.id}
                row={row}
                index={first + j}
                selected={first + j === selectedIndex}
                columns={columns}
              />
            ))}
            {padBottom > 0 && (
              <tr aria-hidden="true">
                <td colSpan={colCount} style={{ height: padBottom, padding: 0, border: 0 }} />
              </tr>
            )}
          </tbody>
        </table>
        {rows.length === 0 && <div className="empty">{empty}</div>}
      </div>
    </div>
  );
}
