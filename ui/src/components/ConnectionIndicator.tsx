import { useStreamStatus } from "../stream/StreamProvider";
import type { StreamStatus } from "../stream/stream";
import { useReplicaStatus } from "../features/replica/queries";
import type { ReplicaStatus } from "../api/types";
import { formatHHMM } from "../lib/format";

function waiting(n: number): string {
  return n === 1 ? "1 change waiting" : `${n} changes waiting`;
}

/**
 * What the indicator says. On a replica its own link to the receiver is what
 * matters ("Offline since 09:05 · 2 changes waiting", "Syncing with the
 * receiver… · 12,000 rows copied"); on the receiver, the console's event stream.
 */
export function connectionText(s: StreamStatus, replica: ReplicaStatus | null | undefined): [string, string] {
  if (replica) {
    const pending = replica.pending_writes > 0 ? ` · ${waiting(replica.pending_writes)}` : "";
    switch (replica.state) {
      case "live":
        return ["live", `Live${pending}`];
      case "syncing": {
        // The first copy of the receiver's rows (or a fresh one): the screens
        // fill page by page until it is live.
        const rows = replica.snapshot ? ` · ${replica.snapshot.rows.toLocaleString("en-US")} rows copied` : "";
        return ["syncing", `Syncing with the receiver…${rows}${pending}`];
      }
      case "reconnecting":
        return ["reconnecting", `Reconnecting…${pending}`];
      case "offline": {
        const since = replica.offline_since ? formatHHMM(new Date(replica.offline_since)) : "—";
        return ["offline", `Offline since ${since}${pending}`];
      }
      default: {
        const unknown: never = replica.state;
        return ["offline", String(unknown)];
      }
    }
  }
  const text =
    s.state === "live"
      ? "Live"
      : s.state === "offline"
        ? `Offline since ${s.since ? formatHHMM(s.since) : "—"}`
        : s.state === "reconnecting"
          ? "Reconnecting…"
          : "Connecting…";
  return [s.state, text];
}

export function ConnectionIndicator() {
  const s = useStreamStatus();
  const replica = useReplicaStatus();
  const [state, text] = connectionText(s, replica.data);
  return (
    <span className={`conn ${state}`} role="status" aria-live="polite" data-testid="connection">
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
