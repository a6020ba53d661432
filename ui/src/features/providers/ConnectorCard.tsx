// A provider's API poller (Convoso): its settings, the circuit's state, the
// last run, and "sync now" / "backfill". The auth token is write-only.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import type { components } from "../../api/schema";
import type { Provider } from "../../api/types";
import { backfillConnector, providerKeys, putConnector, syncConnector, useConnector } from "./queries";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatWhen, titleCase } from "../../lib/format";
import { recordingsLine } from "./recordings";

type Input = components["schemas"]["ConnectorInput"];

export function ConnectorCard({ provider }: { provider: Provider }) {
  const id = useId();
  const qc = useQueryClient();
  const health = useConnector(provider.slug);
  const missing = health.error instanceof ApiError && health.error.status === 404;
  const c = health.data?.connector;
  const [edit, setEdit] = useState<{ base: string; token: string; minutes: string; enabled: boolean } | null>(null);
  const [from, setFrom] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const form = edit ?? {
    base: c?.base_url ?? "https://api.convoso.com/v1",
    token: "",
    minutes: String(Math.round((c?.interval_seconds ?? 900) / 60)),
    enabled: c?.enabled ?? true,
  };
  const done = () => void qc.invalidateQueries({ queryKey: providerKeys.connector(provider.slug) });

  const save = useMutation({
    mutationFn: (body: Input) => putConnector(provider.slug, body),
    onSuccess: () => {
      setEdit(null);
      done();
    },
  });
  const sync = useMutation({
    mutationFn: () => syncConnector(provider.slug),
    onSettled: done,
  });
  const backfill = useMutation({
    mutationFn: (start: string) => backfillConnector(provider.slug, start),
    onSettled: done,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const minutes = Number(form.minutes);
    if (!/^https?:\/\//.test(form.base.trim())) return setProblem("The API address starts with https://.");
    if (!Number.isInteger(minutes) || minutes < 1) return setProblem("Sync every whole number of minutes, 1 or more.");
    if (!c?.has_auth_token && !form.token.trim()) return setProblem("Paste the platform's API auth token.");
    setProblem(null);
    save.mutate({
      base_url: form.base.trim(),
      auth_token: form.token.trim() || null,
      interval_minutes: minutes,
      enabled: form.enabled,
    });
  };
  const report = sync.data ?? backfill.data ?? health.data?.last_run ?? null;
  const recordings = recordingsLine(health.data?.recordings);

  return (
    <section className="card stack" aria-labelledby={`${id}-h`} data-testid="connector">
      <h2 id={`${id}-h`} style={{ margin: 0, fontSize: 16 }}>
        API poller
      </h2>
      <p className="muted" style={{ margin: 0 }}>
        Reads call records from the platform&apos;s API: a delta sync on a schedule, and backfills on demand. Calls it
        finds update the same rows as the webhook.
      </p>
      {!missing && <ErrorBanner error={health.error} onRetry={() => void health.refetch()} />}
      {health.data && (
        <div className="row" data-testid="connector-health">
          <span className={`state ${health.data.circuit.state === "closed" ? "on" : "off"}`}>
            Circuit {titleCase(health.data.circuit.state)}
          </span>
          {health.data.running && <span className="muted">Running…</span>}
          <span className="muted">Synced until {formatWhen(c?.synced_until)}</span>
        </div>
      )}
      {recordings && (
        <p
          className="muted"
          style={{ margin: 0 }}
          data-testid="connector-recordings"
          title={health.data?.recordings.last_error ?? undefined}
        >
          {recordings}
        </p>
      )}
      <form className="stack" onSubmit={submit} noValidate>
        <div className="grid2">
          <div className="field">
            <label htmlFor={`${id}-base`}>API address</label>
            <input id={`${id}-base`} value={form.base} onChange={(e) => setEdit({ ...form, base: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-token`}>API auth token</label>
            <input
              id={`${id}-token`}
              type="password"
              autoComplete="off"
              placeholder={c?.has_auth_token ? "Stored: leave empty to keep it" : ""}
              value={form.token}
              onChange={(e) => setEdit({ ...form, token: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-min`}>Sync every (minutes)</label>
            <input
              id={`${id}-min`}
              inputMode="numeric"
              value={form.minutes}
              onChange={(e) => setEdit({ ...form, minutes: e.target.value })}
            />
          </div>
          <label className="check" style={{ alignSelf: "end" }}>
            <input
              type="checkbox"
              checked={form.enabled}
              onChange={(e) => setEdit({ ...form, enabled: e.target.checked })}
            />
            Scheduled sync on
          </label>
        </div>
        {problem && (
          <p className="error-text" role="alert">
            {problem}
          </p>
        )}
        <ErrorBanner error={save.error} />
        <div className="row">
          <button className="primary" type="submit" disabled={save.isPending}>
            {missing ? "Set up the poller" : "Save poller"}
          </button>
        </div>
      </form>
      {!missing && c && (
        <div className="row">
          <button type="button" onClick={() => sync.mutate()} disabled={sync.isPending || health.data?.running}>
            Sync now
          </button>
          <label htmlFor={`${id}-from`}>Backfill from</label>
          <input id={`${id}-from`} type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
          <button
            type="button"
            disabled={!from || backfill.isPending || health.data?.running}
            onClick={() => backfill.mutate(new Date(`${from}T00:00:00`).toISOString())}
          >
            Backfill
          </button>
        </div>
      )}
      <ErrorBanner error={sync.error ?? backfill.error} />
      {report && (
        <p className="muted" data-testid="connector-report">
          Last run ({report.kind}, {formatWhen(report.started_at)}): scanned {report.scanned}, inserted{" "}
          {report.inserted}, updated {report.updated}, failed {report.failed}, {report.duration_ms} ms
          {report.error ? ` — stopped: ${report.error}` : ""}
        </p>
      )}
    </section>
  );
}
