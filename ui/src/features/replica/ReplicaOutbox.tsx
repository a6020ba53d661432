import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import type { components } from "../../api/schema";
import { discardWrite, resend, useOutbox, useReplicaStatus } from "./queries";
import type { Call, OutboxEntry } from "../../api/types";
import { titleCase } from "../../lib/format";
import { Dialog } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";

/** The receiver's refusal as the replica stored it (its `ErrorDetail`, the call as it is now read as a `Call`). */
type Refusal = Partial<Omit<components["schemas"]["ErrorDetail"], "current">> & { current?: Call };

function refusal(e: OutboxEntry): Refusal {
  return ((e.response_body as { error?: Refusal } | null)?.error ?? {}) as Refusal;
}

/** What the person asked for, in words. */
export function describeWrite(e: OutboxEntry): string {
  const body = (e.body ?? {}) as Record<string, unknown>;
  const call = decodeURIComponent(e.path.split("/")[3] ?? "").split("?")[0];
  if (e.path.includes("/disposition")) {
    const what = [body.category, body.sub_category].filter(Boolean).join(" · ");
    return `Disposition of call ${call}: ${what} (${titleCase(String(body.outcome ?? ""))})`;
  }
  if (e.path.includes("/assign")) return `Assignment of call ${call}`;
  if (e.path.includes("/unassign")) return `Unassignment of call ${call}`;
  return `${e.method} ${e.path}`;
}

/** What is there now, per the receiver's 409. */
export function describeCurrent(c: Call | undefined): string {
  if (!c) return "";
  const outcome = c.last_outcome ? titleCase(c.last_outcome) : "no disposition";
  return `Now: ${outcome}, ${c.attempts} attempt${c.attempts === 1 ? "" : "s"}${c.resolved_at ? ", resolved" : ""} (version ${c.version}).`;
}

/**
 * On a replica: writes the receiver refused (someone else changed the call
 * meanwhile). The person sees what is there now and re-applies or discards.
 */
export function ReplicaOutbox() {
  const status = useReplicaStatus();
  const refused = status.data?.failed_writes ?? 0;
  const [open, setOpen] = useState(false);
  const outbox = useOutbox(open || refused > 0);
  const qc = useQueryClient();
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.replica });
    void qc.invalidateQueries({ queryKey: keys.worklist });
    void qc.invalidateQueries({ queryKey: keys.calls });
  };
  const discard = useMutation({
    mutationFn: discardWrite,
    onSuccess: refresh,
  });
  const reapply = useMutation({
    mutationFn: async (e: OutboxEntry) => {
      const body = { ...((e.body ?? {}) as Record<string, unknown>) };
      const current = refusal(e).current;
      if (current && "expected_version" in body) body.expected_version = current.version;
      await resend(e, body);
      await discardWrite(e);
    },
    onSuccess: refresh,
  });
  if (refused === 0 && !open) return null;
  const entries = (outbox.data?.data ?? []).filter((e) => e.state === "conflict" || e.state === "failed");
  return (
    <>
      <button className="danger" onClick={() => setOpen(true)} data-testid="outbox-refused">
        {refused === 1 ? "1 change refused" : `${refused} changes refused`}
      </button>
      {open && (
        <Dialog title="Changes the receiver refused" onClose={() => setOpen(false)}>
          <ErrorBanner error={discard.error ?? reapply.error} />
          {entries.length === 0 && <p className="muted">Nothing left to review.</p>}
          <ul className="stack" data-testid="outbox-conflicts">
            {entries.map((e) => {
              const r = refusal(e);
              return (
                <li key={e.id} className="card stack">
                  <strong>{describeWrite(e)}</strong>
                  <span>
                    {e.state === "conflict"
                      ? "Someone else changed this call while you were offline."
                      : (r.message ?? "The receiver refused this change.")}
                  </span>
                  {r.current && <span className="muted">{describeCurrent(r.current)}</span>}
                  <div className="row">
                    {e.state === "conflict" && (
                      <button onClick={() => reapply.mutate(e)} disabled={reapply.isPending}>
                        Re-apply mine
                      </button>
                    )}
                    <button onClick={() => discard.mutate(e)} disabled={discard.isPending}>
                      Discard mine
                    </button>
                  </div>
                </li>
              );
            })}
          </ul>
        </Dialog>
      )}
    </>
  );
}
