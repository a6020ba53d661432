// The connector's queue of Convoso recordings not ready when their call was
// first seen, in one line: "Recordings: 3 waiting, next try 14:05 · 1 given up".
import type { components } from "../../api/schema";
import { formatWhen } from "../../lib/format";

type Summary = components["schemas"]["RecordingSummary"];

/** The line, or null when nothing was ever queued. */
export function recordingsLine(r: Summary | null | undefined, now?: Date): string | null {
  if (!r || r.pending + r.fetched + r.given_up === 0) return null;
  const parts: string[] = [];
  if (r.pending > 0) parts.push(`${r.pending} waiting, next try ${formatWhen(r.next_try_at, now)}`);
  if (r.fetched > 0) parts.push(`${r.fetched} fetched later`);
  if (r.given_up > 0) parts.push(`${r.given_up} given up`);
  return `Recordings: ${parts.join(" · ")}`;
}
