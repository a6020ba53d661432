// The worklist keeps the call a person just acted on where it was, selected,
// although the action moved it out of the view (Assign to me takes a pending
// call out of Pending): the next key press must act on that call, not on the
// row that slid into its place. It is let go when the selection moves on.
import type { Call } from "../api/types";
import { callKey } from "../stream/apply";

export interface Held {
  call: Call;
  /** Its row when it was acted on. */
  index: number;
}

/** `calls` with the held call back at its row (the list's copy wins while listed). */
export function withHeld(calls: readonly Call[], held: Held | null): Call[] {
  if (!held) return calls.slice();
  const key = callKey(held.call);
  if (calls.some((c) => callKey(c) === key)) return calls.slice();
  const at = Math.max(0, Math.min(held.index, calls.length));
  return [...calls.slice(0, at), held.call, ...calls.slice(at)];
}

/** The row of the selected call; when it left the list, the nearest row to where it was. */
export function selectedIndex(rows: readonly Call[], key: string | null, lastIndex: number): number {
  if (rows.length === 0) return 0;
  if (key !== null) {
    const i = rows.findIndex((c) => callKey(c) === key);
    if (i >= 0) return i;
  }
  return Math.max(0, Math.min(lastIndex, rows.length - 1));
}
