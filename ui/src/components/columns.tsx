import type { ColumnDef } from "@tanstack/react-table";
import type { Call, Provider } from "../api/types";
import { formatPhone } from "../lib/format";
import { providerName } from "../lib/useVisibleProviders";

/** The caller's number in bold, their name after it; the call id on hover. */
export function callerColumn(size: number): ColumnDef<Call, unknown> {
  return {
    id: "caller",
    header: "Caller",
    accessorFn: (c) => c.mobile_number ?? "",
    // Numbers as stored (E.164): compared as strings, not cut into digit runs.
    sortingFn: "basic",
    cell: ({ row }) => (
      <span title={row.original.call_id}>
        <strong>{formatPhone(row.original.mobile_number)}</strong>
        {row.original.caller_name && <span className="muted"> · {row.original.caller_name}</span>}
      </span>
    ),
    size,
  };
}

/** The department's display name: only on the "All" views. */
export function departmentColumn(providers: Provider[], size: number, sortable: boolean): ColumnDef<Call, unknown> {
  return {
    id: "department",
    header: "Department",
    accessorFn: (c) => providerName(providers, c.department),
    enableSorting: sortable,
    size,
  };
}
