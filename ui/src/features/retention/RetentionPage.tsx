// Masters › Retention: how long finished calls and raw deliveries are kept,
// what the archive holds (and its calls as CSV), "Run now", and every run (daily and manual) with what it archived or
// deleted: calls, the leads that went with them, raw deliveries. The list
// polls while a run is going.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, ApiError } from "../../api/client";
import type { components } from "../../api/schema";
import { Page } from "../../components/Page";
import { Field } from "../../components/Field";
import { ErrorBanner } from "../../components/ErrorBanner";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { formatDuration, formatWhen, secondsBetween } from "../../lib/format";
import { ArchivePanel } from "./ArchivePanel";

type Settings = components["schemas"]["RetentionSettings"];
type Run = components["schemas"]["RetentionRun"];

const KEY = ["retention"] as const;
const RUNNING_POLL_MS = 1000;

function useSettings() {
  return useQuery({
    queryKey: [...KEY, "settings"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/settings/retention", { signal })),
  });
}

function useRuns() {
  return useQuery({
    queryKey: [...KEY, "runs"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/retention/runs", { params: { query: { limit: 30 } }, signal })),
    refetchInterval: (q) => (q.state.data?.data.some((r) => !r.finished_at) ? RUNNING_POLL_MS : false),
  });
}

/** What a policy does, in words. */
export function policyText(s: Pick<Settings, "calls_days" | "mode" | "raw_days">): string {
  const calls =
    s.calls_days === 0
      ? "every call is kept"
      : `finished calls older than ${s.calls_days} day${s.calls_days === 1 ? "" : "s"} are ${s.mode === "archive" ? "moved to the archive" : "deleted"}`;
  const raw =
    s.raw_days === 0
      ? "raw deliveries are kept"
      : `raw deliveries older than ${s.raw_days} day${s.raw_days === 1 ? "" : "s"} are deleted`;
  return `${calls.charAt(0).toUpperCase()}${calls.slice(1)}; ${raw}.`;
}

function days(v: string): number | null {
  if (!/^\d{1,5}$/.test(v.trim())) return null;
  return Number(v.trim());
}

function SettingsForm({ saved }: { saved: Settings }) {
  const qc = useQueryClient();
  const [callsDays, setCallsDays] = useState(String(saved.calls_days));
  const [mode, setMode] = useState(saved.mode);
  const [rawDays, setRawDays] = useState(String(saved.raw_days));
  const [done, setDone] = useState(false);
  const save = useMutation({
    mutationFn: (s: Settings) => unwrap(client().PUT("/api/settings/retention", { body: s })),
    onSuccess: (s) => {
      qc.setQueryData([...KEY, "settings"], s);
      setDone(true);
    },
  });
  const calls = days(callsDays);
  const raw = days(rawDays);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (calls === null || raw === null) return;
    save.mutate({ calls_days: calls, mode, raw_days: raw });
  };
  return (
    <form className="panel stack" aria-labelledby="policy-title" onSubmit={submit} noValidate>
      <h2 id="policy-title">Policy</h2>
      <Field
        label="Keep finished calls for (days)"
        hint="0 keeps every call. Calls still waiting, ringing, talking or on the worklist are never touched. A lead goes the same way once no call names it and it has not changed for as long."
        error={calls === null ? "Write a whole number of days (0 or more)." : null}
      >
        {(p) => (
          <input
            {...p}
            name="calls_days"
            inputMode="numeric"
            value={callsDays}
            onChange={(e) => {
              setDone(false);
              setCallsDays(e.target.value);
            }}
          />
        )}
      </Field>
      <fieldset className="choices compact">
        <legend>Then</legend>
        <label className="check">
          <input
            type="radio"
            name="mode"
            checked={mode === "archive"}
            onChange={() => {
              setDone(false);
              setMode("archive");
            }}
          />
          Move them and their dispositions to the archive (out of the screens, kept in the database)
        </label>
        <label className="check">
          <input
            type="radio"
            name="mode"
            checked={mode === "delete"}
            onChange={() => {
              setDone(false);
              setMode("delete");
            }}
          />
          Delete them for good
        </label>
      </fieldset>
      <Field
        label="Keep raw deliveries for (days)"
        hint="The payloads as the platforms sent them (the ingestion log). 0 keeps them."
        error={raw === null ? "Write a whole number of days (0 or more)." : null}
      >
        {(p) => (
          <input
            {...p}
            name="raw_days"
            inputMode="numeric"
            value={rawDays}
            onChange={(e) => {
              setDone(false);
              setRawDays(e.target.value);
            }}
          />
        )}
      </Field>
      {calls !== null && raw !== null && (
        <p className="muted" data-testid="policy-text">
          {policyText({ calls_days: calls, mode, raw_days: raw })} Runs daily, in small batches, so webhooks keep their
          speed.
        </p>
      )}
      <ErrorBanner error={save.error} />
      {done && (
        <p className="banner done" role="status">
          Saved.
        </p>
      )}
      <div className="row">
        <button className="primary" type="submit" disabled={save.isPending || calls === null || raw === null}>
          {save.isPending ? "Saving…" : "Save policy"}
        </button>
      </div>
    </form>
  );
}

export function RunRow({ run }: { run: Run }) {
  const going = !run.finished_at;
  const took = secondsBetween(run.started_at, run.finished_at ?? undefined);
  return (
    <tr data-run={run.id} data-state={going ? "running" : run.error ? "failed" : "done"}>
      <td>{formatWhen(run.started_at)}</td>
      <td>{run.trigger === "schedule" ? "Daily" : `Manual (${run.actor})`}</td>
      <td>{policyText(run)}</td>
      <td className="num">{run.calls_archived}</td>
      <td className="num">{run.calls_deleted}</td>
      <td className="num">{run.leads_archived}</td>
      <td className="num">{run.leads_deleted}</td>
      <td className="num">{run.raw_events_deleted}</td>
      <td>
        {going ? (
          <span role="status">Running… ({run.batches} batches so far)</span>
        ) : run.error ? (
          <span className="error-text">Stopped: {run.error}</span>
        ) : (
          `Done in ${formatDuration(took)} (${run.batches} batch${run.batches === 1 ? "" : "es"})`
        )}
      </td>
    </tr>
  );
}

export default function RetentionPage() {
  const qc = useQueryClient();
  const settings = useSettings();
  const runs = useRuns();
  const [confirming, setConfirming] = useState(false);
  const run = useMutation({
    mutationFn: () => unwrap(client().POST("/api/retention/run")),
    onSuccess: () => {
      setConfirming(false);
      void qc.invalidateQueries({ queryKey: [...KEY, "runs"] });
    },
  });
  const going = runs.data?.data.some((r) => !r.finished_at) ?? false;
  // A run that finished here refreshes the lists it emptied.
  const wasGoing = useRef(false);
  useEffect(() => {
    if (wasGoing.current && !going) void qc.invalidateQueries();
    wasGoing.current = going;
  }, [going, qc]);
  const busy = run.error instanceof ApiError && run.error.code === "retention_running";

  return (
    <Page title="Retention">
      <div className="stack">
        {settings.data ? (
          <SettingsForm saved={settings.data} />
        ) : (
          <ErrorBanner error={settings.error} onRetry={() => void settings.refetch()} />
        )}
        <ArchivePanel />
        <section className="panel stack" aria-labelledby="runs-title">
          <div className="row">
            <h2 id="runs-title" className="grow">
              Runs
            </h2>
            <button
              type="button"
              disabled={going || run.isPending || !settings.data}
              onClick={() => (settings.data?.mode === "delete" ? setConfirming(true) : run.mutate())}
            >
              {going ? "Running…" : "Run now"}
            </button>
          </div>
          {busy ? (
            <p className="banner warn" role="status">
              A run is already going: it shows below.
            </p>
          ) : (
            !confirming && <ErrorBanner error={run.error} />
          )}
          <ErrorBanner error={runs.error} onRetry={() => void runs.refetch()} />
          {runs.data && runs.data.data.length === 0 && <p className="muted">No run yet.</p>}
          {runs.data && runs.data.data.length > 0 && (
            <div className="table-scroll" tabIndex={0} role="region" aria-label="Retention runs (scrolls sideways)">
              <table className="plain" data-testid="retention-runs">
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Trigger</th>
                    <th scope="col">Policy</th>
                    <th scope="col" className="num">
                      Calls archived
                    </th>
                    <th scope="col" className="num">
                      Calls deleted
                    </th>
                    <th scope="col" className="num">
                      Leads archived
                    </th>
                    <th scope="col" className="num">
                      Leads deleted
                    </th>
                    <th scope="col" className="num">
                      Raw deleted
                    </th>
                    <th scope="col">Result</th>
                  </tr>
                </thead>
                <tbody>
                  {runs.data.data.map((r) => (
                    <RunRow key={r.id} run={r} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
      {confirming && settings.data && (
        <ConfirmDialog
          title="Delete old calls now?"
          confirmLabel="Delete them"
          danger
          busy={run.isPending}
          error={run.error}
          onConfirm={() => run.mutate()}
          onCancel={() => setConfirming(false)}
        >
          <p>{policyText(settings.data)} Deleted calls cannot be brought back.</p>
        </ConfirmDialog>
      )}
    </Page>
  );
}
