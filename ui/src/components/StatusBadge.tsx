import type { Status } from "../api/types";
import { titleCase } from "../lib/format";

/** A colour per status, always with its word: colour is never the only cue. */
export function StatusBadge({ status }: { status: Status | null | undefined }) {
  if (!status) return <span className="muted">unknown</span>;
  return <span className={`status ${status}`}>{titleCase(status)}</span>;
}
