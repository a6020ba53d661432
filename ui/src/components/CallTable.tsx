// The call grid: TanStack Table for columns and sorting, TanStack Virtual so
// ten thousand rows render as the thirty on screen.
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import {
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type SortingState,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import type { Call } from "../api/types";

const ROW_HEIGHT = 38;

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
  calls: Call[];
  columns: ColumnDef<Call, unknown>[];
  label: string;
  selected: number;
  onSelect: (i: number) => void;
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
  const table = useReactTable({
    data: calls,
    columns,
    state: { sorting },
    onSortingChange: (u) => {
      const next = typeof u === "function" ? u(sorting) : u;
      if (onSortingChange) onSortingChange(next);
      else setOwnSorting(next);
    },
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    manualSorting,
    getRowId: (c) => `${c.department}/${c.call_id}`,
  });
  const rows = table.getRowModel().rows;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });

  useEffect(() => {
    if (selected >= 0 && selected < rows.length) virtualizer.scrollToIndex(selected, { align: "auto" });
  }, [selected, rows.length, virtualizer]);

  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const colCount = table.getVisibleLeafColumns().length;

  const keyDown = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const current = rows[selected]?.original;
    if (onKey?.(e, current)) {
      e.preventDefault();
      return;
    }
    const move = (to: number) => {
      e.preventDefault();
      onSelect(Math.max(0, Math.min(rows.length - 1, to)));
    };
    switch (e.key) {
      case "ArrowDown":
      case "j":
        move(selected + 1);
        break;
      case "ArrowUp":
      case "k":
        move(selected - 1);
        break;
      case "Home":
        move(0);
        break;
      case "End":
        move(rows.length - 1);
        break;
      case "PageDown":
        move(selected + 15);
        break;
      case "PageUp":
        move(selected - 15);
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
          <tbody>
            {padTop > 0 && (
              <tr aria-hidden="true">
                <td colSpan={colCount} style={{ height: padTop, padding: 0, border: 0 }} />
              </tr>
            )}
            {items.map((vi) => {
              const row = rows[vi.index];
              if (!row) return null;
              return (
                <tr
                  key={row.id}
                  data-call-id={row.original.call_id}
                  data-department={row.original.department}
                  aria-selected={vi.index === selected}
                  aria-rowindex={vi.index + 1}
                  onClick={() => onSelect(vi.index)}
                  onDoubleClick={() => onOpen(row.original)}
                >
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
                  ))}
                </tr>
              );
            })}
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
