// The voicemail inbox: what callers left, newest first, filtered in the
// address bar; played inline (the first play is noted for everyone),
// handled, assigned, deleted by supervisors.
import { useState } from "react";
import { useSearchParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { Voicemail } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { Page } from "../../components/Page";
import { PhoneLink } from "../../components/PhoneLink";
import { formatDuration, formatWhen } from "../../lib/format";
import { providerName, useVisibleProviders } from "../../lib/useVisibleProviders";
import { useSession } from "../../session";
import { CallDrawer } from "../calls/CallDrawer";
import { assignCall, refreshAfterCallWrite } from "../calls/queries";
import {
  deleteVoicemail,
  markHandled,
  markListened,
  readInbox,
  refreshInbox,
  useInbox,
  VIEWS,
  writeInbox,
  type InboxFilters,
} from "./queries";

export default function VoicemailPage() {
  const [params, setParams] = useSearchParams();
  const filters = readInbox(params);
  const set = (patch: Partial<InboxFilters>) => setParams(writeInbox({ ...filters, ...patch }));
  const providers = useVisibleProviders();
  const inbox = useInbox(filters);
  const [open, setOpen] = useState<Voicemail | null>(null);
  const [deleting, setDeleting] = useState<Voicemail | null>(null);
  const qc = useQueryClient();
  const { me } = useSession();
  const supervisor = me?.role === "admin" || me?.role === "supervisor";
  const del = useMutation({
    mutationFn: (id: number) => deleteVoicemail(id),
    onSuccess: () => {
      setDeleting(null);
      refreshInbox(qc);
    },
  });

  return (
    <Page title="Voicemail">
      <div className="row" role="group" aria-label="Voicemail views">
        {VIEWS.map((v) => (
          <button
            key={v.view}
            className={filters.view === v.view ? "primary" : ""}
            aria-pressed={filters.view === v.view}
            onClick={() => set({ view: v.view })}
            data-testid={`vm-view-${v.view}`}
          >
            {v.label}
          </button>
        ))}
        <span className="muted grow" style={{ textAlign: "right" }} data-testid="vm-total">
          {inbox.data ? `${inbox.data.total} voicemail${inbox.data.total === 1 ? "" : "s"}` : ""}
        </span>
      </div>
      <form className="row" role="search" aria-label="Filter voicemails" onSubmit={(e) => e.preventDefault()}>
        <Field label="Department">
          {(p) => (
            <select {...p} value={filters.department} onChange={(e) => set({ department: e.target.value })}>
              <option value="">All departments</option>
              {providers.map((d) => (
                <option key={d.slug} value={d.slug}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="From">
          {(p) => <input {...p} type="date" value={filters.from} onChange={(e) => set({ from: e.target.value })} />}
        </Field>
        <Field label="To">
          {(p) => <input {...p} type="date" value={filters.to} onChange={(e) => set({ to: e.target.value })} />}
        </Field>
        <Field label="Agent">
          {(p) => (
            <input
              {...p}
              type="search"
              value={filters.agent}
              placeholder="Name or id"
              onChange={(e) => set({ agent: e.target.value })}
            />
          )}
        </Field>
      </form>
      <ErrorBanner error={inbox.error} onRetry={() => void inbox.refetch()} />
      {inbox.data && inbox.data.data.length === 0 && (
        <p className="muted" data-testid="vm-empty">
          No voicemail here.
        </p>
      )}
      <ul className="stack vm-list" aria-label="Voicemails" style={{ listStyle: "none", padding: 0, margin: 0 }}>
        {inbox.data?.data.map((v) => (
          <VoicemailRow
            key={v.id}
            v={v}
            department={providerName(providers, v.department)}
            canDelete={supervisor}
            onOpen={() => setOpen(v)}
            onDelete={() => setDeleting(v)}
          />
        ))}
      </ul>
      {open && <CallDrawer department={open.department} callId={open.call_id} onClose={() => setOpen(null)} />}
      {deleting && (
        <ConfirmDialog
          title="Delete this voicemail?"
          confirmLabel="Delete voicemail"
          danger
          busy={del.isPending}
          error={del.error}
          onConfirm={() => del.mutate(deleting.id)}
          onCancel={() => setDeleting(null)}
        >
          <p>
            The recording link and transcript of the voicemail from <PhoneLink number={deleting.mobile_number} /> are
            removed; the call stays. The deletion is in the audit log.
          </p>
        </ConfirmDialog>
      )}
    </Page>
  );
}

function VoicemailRow({
  v,
  department,
  canDelete,
  onOpen,
  onDelete,
}: {
  v: Voicemail;
  department: string;
  canDelete: boolean;
  onOpen: () => void;
  onDelete: () => void;
}) {
  const qc = useQueryClient();
  const done = () => refreshInbox(qc);
  const played = useMutation({ mutationFn: () => markListened(v.id), onSuccess: done });
  const handled = useMutation({ mutationFn: (h: boolean) => markHandled(v.id, h), onSuccess: done });
  const assign = useMutation({
    mutationFn: () => assignCall(v.call_id, v.department),
    onSuccess: () => {
      done();
      refreshAfterCallWrite(qc, v.department, v.call_id);
    },
  });
  const unplayed = !v.listened_at && !v.handled_at;
  return (
    <li className="card stack" data-testid="voicemail-row" data-call-id={v.call_id}>
      <div className="row">
        {unplayed && (
          <span className="state off" title="Nobody has played it yet">
            New
          </span>
        )}
        <strong>
          <PhoneLink number={v.mobile_number} />
        </strong>
        {v.caller_name && <span>{v.caller_name}</span>}
        <span className="muted">{department}</span>
        <span className="muted">
          {formatWhen(v.created_at)} · {formatDuration(v.duration_seconds)}
        </span>
        {v.agent && <span className="muted">for {v.agent}</span>}
        <span className="grow" />
        {v.assignee_name && <span className="muted">Assigned to {v.assignee_name}</span>}
      </div>
      {v.link && (
        <audio
          controls
          preload="none"
          src={v.link}
          aria-label={`Voicemail from ${v.mobile_number ?? "unknown caller"}`}
          onPlay={() => {
            if (!v.listened_at && !played.isPending) played.mutate();
          }}
        />
      )}
      {v.transcript && <blockquote className="transcript">{v.transcript}</blockquote>}
      <div className="row">
        {v.handled_at ? (
          <>
            <span className="muted" data-testid="vm-handled">
              Handled by {v.handled_by} {formatWhen(v.handled_at)}
            </span>
            <button onClick={() => handled.mutate(false)} disabled={handled.isPending}>
              Reopen
            </button>
          </>
        ) : (
          <button className="primary" onClick={() => handled.mutate(true)} disabled={handled.isPending}>
            Mark handled
          </button>
        )}
        {!v.assignee_id && (
          <button onClick={() => assign.mutate()} disabled={assign.isPending}>
            Assign to me
          </button>
        )}
        <button onClick={onOpen}>Open call</button>
        {v.listened_at && (
          <span className="muted" data-testid="vm-played">
            Played by {v.listened_by} {formatWhen(v.listened_at)}
          </span>
        )}
        <span className="grow" />
        {canDelete && (
          <button className="danger" onClick={onDelete}>
            Delete
          </button>
        )}
      </div>
      <ErrorBanner error={played.error ?? handled.error ?? assign.error} />
    </li>
  );
}
