// A provider's ingestion log: every delivery with its outcome, error and
// warnings, the payload pretty-printed, and replay of the failed ones.
import { Fragment, useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { components } from "../../api/schema";
import type { RawEvent, ReplayReport } from "../../api/types";
import { providerKeys, replayDeliveries, useDeliveries } from "./queries";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatWhen } from "../../lib/format";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { pretty } from "../../lib/format";

type ReplayRequest = components["schemas"]["ReplayRequest"];

const OUTCOMES = ["applied", "duplicate", "mapping_failed", "rejected"] as const;
const OUTCOME_WORDS: Record<string, string> = {
  applied: "Applied",
  duplicate: "Duplicate",
  mapping_failed: "Mapping failed",
  rejected: "Rejected",
};

export function replaySummary(r: ReplayReport): string {
  if (r.replayed === 0) return "There were no failed deliveries to replay.";
  const looked = `Replayed ${r.replayed} failed deliver${r.replayed === 1 ? "y" : "ies"}`;
  return `${looked}: ${r.applied} now applied, ${r.failed} still failing.`;
}

export function IngestionLog({ slug }: { slug: string }) {
  const id = useId();
  const qc = useQueryClient();
  const [outcome, setOutcome] = useState("");
  const [open, setOpen] = useState<Set<number>>(new Set());
  const [confirm, setConfirm] = useState(false);
  const log = useDeliveries(slug, outcome);
  const replay = useMutation({
    mutationFn: (body: ReplayRequest) => replayDeliveries(slug, body),
    onSuccess: () => {
      setConfirm(false);
      return qc.invalidateQueries({ queryKey: providerKeys.deliveries(slug) });
    },
  });

  const rows: RawEvent[] = log.data?.data ?? [];
  const toggle = (n: number) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(n)) next.delete(n);
      else next.add(n);
      return next;
    });

  return (
    <section className="card stack log-card" aria-labelledby={`${id}-h`} data-testid="ingestion-log">
      <div className="row">
        <h3 id={`${id}-h`} className="grow">
          Ingestion log
        </h3>
        <div className="field inline">
          <label htmlFor={`${id}-o`}>Outcome</label>
          <select id={`${id}-o`} value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">All</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {OUTCOME_WORDS[o]}
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={() => void log.refetch()}>
          Refresh
        </button>
        <button type="button" onClick={() => setConfirm(true)}>
          Replay failed deliveries
        </button>
      </div>
      <p className="muted hint">
        The most recent 100 deliveries, newest first. Replay maps failed deliveries again with the <em>saved</em>{" "}
        mapping: save a fixed mapping first.
      </p>
      {replay.data && (
        <div className="banner ok" role="status" data-testid="replay-report">
          {replaySummary(replay.data)}
        </div>
      )}
      <ErrorBanner error={log.error} onRetry={() => void log.refetch()} />
      {log.isPending ? (
        <p className="muted">Loading deliveries…</p>
      ) : rows.length === 0 ? (
        <p className="muted">
          {outcome ? "No deliveries with this outcome." : "Nothing received yet. Send a test event to the webhook URL."}
        </p>
      ) : (
        <table className="plain log-table">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Outcome</th>
              <th scope="col">Call</th>
              <th scope="col">Error and warnings</th>
              <th scope="col">
                <span className="sr-only">Payload</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => {
              const expanded = open.has(d.id);
              const detailId = `${id}-d${d.id}`;
              return (
                <Fragment key={d.id}>
                  <tr data-testid="delivery">
                    <td title={d.received_at}>
                      {formatWhen(d.received_at)}
                      {d.replayed_at && <div className="muted small">replayed {formatWhen(d.replayed_at)}</div>}
                    </td>
                    <td>
                      <span className={`outcome ${d.outcome}`}>{OUTCOME_WORDS[d.outcome] ?? d.outcome}</span>
                      {d.duplicate_of != null && <div className="muted small">of #{d.duplicate_of}</div>}
                    </td>
                    <td className="mono">
                      {d.kind === "lead" ? (
                        <span title="A lead delivery">lead {d.event_id ?? "—"}</span>
                      ) : (
                        (d.call_id ?? "—")
                      )}
                    </td>
                    <td>
                      {d.error && <div className="error-text">{d.error}</div>}
                      {d.warnings.map((w) => (
                        <div key={w} className="warn-text">
                          {w}
                        </div>
                      ))}
                      {!d.error && d.warnings.length === 0 && <span className="muted">—</span>}
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        aria-expanded={expanded}
                        aria-controls={expanded ? detailId : undefined}
                        onClick={() => toggle(d.id)}
                      >
                        {expanded ? "Hide payload" : "Payload"}
                      </button>
                    </td>
                  </tr>
                  {expanded && (
                    <tr id={detailId}>
                      <td colSpan={5}>
                        <div className="muted small">
                          {d.method} · {d.content_type ?? "no content type"} · delivery #{d.id}
                          {d.request_id && <> · request {d.request_id}</>}
                          {d.event_id && <> · event {d.event_id}</>}
                        </div>
                        <pre>{d.payload === null ? "(no payload kept)" : pretty(d.payload)}</pre>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
      {confirm && (
        <ConfirmDialog
          title="Replay failed deliveries?"
          confirmLabel="Replay"
          busy={replay.isPending}
          error={replay.error}
          onCancel={() => {
            setConfirm(false);
            replay.reset();
          }}
          onConfirm={() => replay.mutate({})}
        >
          <p>
            Every delivery whose mapping failed is mapped again with the provider&apos;s saved mapping; those that now
            map are applied to their calls.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
