import { useEffect, useRef } from "react";
import { PhoneLink } from "../../components/PhoneLink";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { assignCall, refreshAfterCallWrite, unassignCall, useCallDetail } from "./queries";
import { useEscape } from "../../lib/useEscape";
import { formatDuration, formatPhone, formatWhen, slaText, titleCase } from "../../lib/format";
import { DispositionForm } from "./DispositionForm";
import { ErrorBanner } from "../../components/ErrorBanner";
import { StatusBadge } from "../../components/StatusBadge";
import { IvrPath } from "../flows/ProviderIvr";
import { PreviousCalls } from "../history/PreviousCalls";
import { CallBackPanel } from "../callbacks/CallBackPanel";
import { LeadSection } from "../leads/LeadSection";

function Field({ k, v }: { k: string; v: React.ReactNode }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{v === null || v === undefined || v === "" ? "—" : v}</dd>
    </>
  );
}

export function CallDrawer({
  department,
  callId,
  onClose,
  disposition,
  callback,
}: {
  department: string;
  callId: string;
  onClose: () => void;
  /** Show the disposition form, focused. */
  disposition?: boolean;
  /** Focus the Call back form. */
  callback?: boolean;
}) {
  const qc = useQueryClient();
  const detail = useCallDetail(department, callId);
  const ref = useRef<HTMLDivElement>(null);
  const c = detail.data;
  useEscape(onClose);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    if (!disposition && !callback) ref.current?.focus();
    return () => before?.focus?.();
  }, [disposition, callback]);

  const assign = useMutation({
    mutationFn: (mine: boolean) => (mine ? assignCall(callId, department) : unassignCall(callId, department)),
    onSuccess: () => refreshAfterCallWrite(qc, department, callId),
  });

  const worklist = c && (c.status === "missed" || c.status === "hangup");
  const sla = c && c.work_state !== "resolved" ? slaText(c.sla_due_at) : null;

  return (
    <>
      <div className="scrim" onClick={onClose} />
      <aside
        className="drawer"
        role="dialog"
        aria-modal="true"
        aria-label={`Call ${callId}`}
        tabIndex={-1}
        ref={ref}
        data-testid="call-drawer"
      >
        <header>
          <h2>
            {c ? formatPhone(c.mobile_number) : "Call"}{" "}
            {c?.caller_name && <span className="muted">· {c.caller_name}</span>}
          </h2>
          {c && <StatusBadge status={c.status} />}
          <button onClick={onClose} aria-label="Close call details">
            ✕
          </button>
        </header>
        <div className="body">
          <ErrorBanner error={detail.error} onRetry={() => void detail.refetch()} />
          {detail.isPending && <p className="muted">Loading…</p>}
          {c && (
            <>
              <dl className="fields">
                <Field k="Call id" v={<code>{c.call_id}</code>} />
                <Field k="Department" v={c.department} />
                <Field k="Caller" v={c.mobile_number ? <PhoneLink number={c.mobile_number} /> : null} />
                <Field k="Caller name" v={c.caller_name} />
                <Field k="DID" v={c.did ? <PhoneLink number={c.did} /> : null} />
                <Field k="Direction" v={c.direction} />
                <Field k="Provider status" v={c.raw_status} />
                <Field k="Agent" v={c.agent_name ?? c.agent_id} />
                <Field k="Started" v={formatWhen(c.started_at)} />
                <Field k="Answered" v={formatWhen(c.answered_at)} />
                <Field k="Ended" v={formatWhen(c.ended_at)} />
                <Field k="Duration" v={formatDuration(c.duration_seconds)} />
                <Field
                  k="Recording"
                  v={
                    c.recording_url ? (
                      <a href={c.recording_url} target="_blank" rel="noreferrer">
                        Listen
                      </a>
                    ) : null
                  }
                />
                {worklist && (
                  <>
                    <Field k="Worklist" v={c.work_state ? titleCase(c.work_state) : null} />
                    <Field k="Assigned to" v={c.assignee_name} />
                    <Field k="Attempts" v={String(c.attempts)} />
                    <Field k="Last outcome" v={c.last_outcome ? titleCase(c.last_outcome) : null} />
                    <Field k="Next callback" v={formatWhen(c.next_callback_at)} />
                    <Field
                      k="Callback SLA"
                      v={sla ? <span className={sla.breached ? "sla-breach" : ""}>{sla.text}</span> : null}
                    />
                  </>
                )}
                {Object.entries(c.metadata ?? {}).map(([k, v]) => (
                  <Field key={k} k={k} v={typeof v === "string" ? v : JSON.stringify(v)} />
                ))}
              </dl>
              {c.voicemail && (
                <section className="stack" aria-labelledby="vm-h" data-testid="voicemail">
                  <h3 id="vm-h" style={{ margin: 0 }}>
                    Voicemail
                  </h3>
                  <dl className="fields">
                    <Field k="Length" v={formatDuration(c.voicemail.duration_seconds)} />
                    <Field k="Left at" v={formatWhen(c.voicemail.created_at)} />
                    <Field
                      k="Recording"
                      v={
                        c.voicemail.link ? (
                          <a href={c.voicemail.link} target="_blank" rel="noreferrer">
                            Listen
                          </a>
                        ) : null
                      }
                    />
                  </dl>
                  {c.voicemail.transcript && <blockquote className="transcript">{c.voicemail.transcript}</blockquote>}
                </section>
              )}
              {c.lead && <LeadSection call={c} lead={c.lead} />}
              <IvrPath call={c} />
              <PreviousCalls call={c} />
              {worklist && (
                <section className="stack" aria-labelledby="work-h">
                  <h3 id="work-h" style={{ margin: 0 }}>
                    Callback
                  </h3>
                  <div className="row">
                    <button onClick={() => assign.mutate(true)} disabled={assign.isPending}>
                      Assign to me
                    </button>
                    {c.assignee_id !== null && c.assignee_id !== undefined && (
                      <button onClick={() => assign.mutate(false)} disabled={assign.isPending}>
                        Unassign
                      </button>
                    )}
                  </div>
                  <ErrorBanner error={assign.error} />
                  <CallBackPanel call={c} autoFocus={callback} />
                  <DispositionForm call={c} autoFocus={disposition} />
                </section>
              )}
              <section aria-labelledby="disp-h">
                <h3 id="disp-h">Disposition history</h3>
                {c.dispositions.length === 0 ? (
                  <p className="muted">None yet.</p>
                ) : (
                  <ul className="timeline" data-testid="disposition-history">
                    {c.dispositions
                      .slice()
                      .reverse()
                      .map((d) => (
                        <li key={d.id}>
                          <div className="row">
                            <strong>{titleCase(d.outcome)}</strong>
                            <span>
                              {d.category}
                              {d.sub_category ? ` › ${d.sub_category}` : ""}
                            </span>
                            <span className="muted grow" style={{ textAlign: "right" }}>
                              {d.actor} · {formatWhen(d.created_at)}
                            </span>
                          </div>
                          {d.notes && <p style={{ margin: "6px 0 0" }}>{d.notes}</p>}
                          {d.next_callback_at && <p className="muted">Call back {formatWhen(d.next_callback_at)}</p>}
                        </li>
                      ))}
                  </ul>
                )}
              </section>
              <section aria-labelledby="events-h">
                <h3 id="events-h">Events received ({c.events.length})</h3>
                <ol className="timeline">
                  {c.events.map((ev, i) => (
                    <li key={ev.id}>
                      <div className="row">
                        <strong>{ev.outcome}</strong>
                        <span className="muted">{formatWhen(ev.received_at)}</span>
                        {ev.event_id && <code className="muted">{ev.event_id}</code>}
                        {ev.error && <span className="error-text">{ev.error}</span>}
                      </div>
                      {ev.warnings.length > 0 && <p className="muted">Warnings: {ev.warnings.join("; ")}</p>}
                      <details open={i >= c.events.length - 3}>
                        <summary>Payload</summary>
                        <pre>{JSON.stringify(ev.payload, null, 2)}</pre>
                      </details>
                    </li>
                  ))}
                </ol>
              </section>
            </>
          )}
        </div>
      </aside>
    </>
  );
}
