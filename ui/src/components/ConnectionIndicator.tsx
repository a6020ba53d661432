import { useStreamStatus } from "../stream/StreamProvider";
import type { StreamStatus } from "../stream/stream";
import { secondsUntilRetry, useReplicaStatus, useRetryNow } from "../features/replica/queries";
import { useSecond } from "../lib/useNow";
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

/** A replica waiting between attempts: the countdown to the next one and
 * "Retry now". Outside the live region, so the ticking is not read out. */
function RetryNow({ retryInMs, fetchedAt }: { retryInMs: number; fetchedAt: number }) {
  const now = useSecond();
  const retry = useRetryNow();
  const secs = secondsUntilRetry(retryInMs, fetchedAt, now);
  return (
    <span className="conn-retry muted" data-testid="retry">
      {secs !== null && secs > 0 ? `next try in ${secs} s` : "trying…"}
      <button type="button" className="link" onClick={() => retry.mutate()} disabled={retry.isPending}>
        Retry now
      </button>
    </span>
  );
}

export function ConnectionIndicator() {
  const s = useStreamStatus();
  const replica = useReplicaStatus();
  const [state, text] = connectionText(s, replica.data);
  const retryInMs = replica.data?.retry_in_ms;
  return (
    <span className="conn-wrap">
      <span className={`conn ${state}`} role="status" aria-live="polite" data-testid="connection">
        <span className="dot" aria-hidden="true" />
        {text}
      </span>
      {retryInMs !== null && retryInMs !== undefined && (
        <RetryNow retryInMs={retryInMs} fetchedAt={replica.dataUpdatedAt} />
      )}
    </span>
  );
}
