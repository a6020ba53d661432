// A platform's event stream that Callboard connects to and follows
// (Asterisk's ARI, 3CX's Call Control API): the address, the credentials
// (write-only), and whether the stream is up.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import type { Provider } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatWhen } from "../../lib/format";
import { providerKeys, putConnector, useConnector } from "./queries";

/** What differs between the platforms whose events Callboard follows. */
const PLATFORMS = {
  asterisk: {
    testId: "ari-stream",
    title: "ARI event stream",
    about:
      "Callboard connects to Asterisk's REST Interface and follows every channel event (no dialplan change). It reconnects by itself when Asterisk or Callboard restarts.",
    address: "ARI address",
    defaultBase: "http://pbx:8088/ari",
    credentials: "ARI user:password (ari.conf)",
    placeholder: "callboard:secret",
    connect: "Connect to Asterisk",
  },
  "3cx": {
    testId: "3cx-stream",
    title: "3CX Call Control stream",
    about:
      "Live states from 3CX's Call Control API (v20): Callboard signs in as a 3CX API application and follows the calls of every DN it may see — waiting in a queue, ringing, talking with the extension that took them, inbound or outbound — not only when they end. It reconnects by itself.",
    address: "3CX address",
    defaultBase: "https://pbx.example.com",
    credentials: "API application client_id:API key",
    placeholder: "callboard:api-key",
    connect: "Connect to 3CX",
  },
} as const;

export type StreamPlatform = keyof typeof PLATFORMS;

export function isStreamPlatform(preset: string | null | undefined): preset is StreamPlatform {
  return preset === "asterisk" || preset === "3cx";
}

export function StreamCard({ provider, platform }: { provider: Provider; platform: StreamPlatform }) {
  const p = PLATFORMS[platform];
  const id = useId();
  const qc = useQueryClient();
  const health = useConnector(provider.slug, 5_000);
  const missing = health.error instanceof ApiError && health.error.status === 404;
  const c = health.data?.connector;
  const stream = health.data?.stream;
  const [edit, setEdit] = useState<{ base: string; credentials: string; enabled: boolean } | null>(null);
  const form = edit ?? { base: c?.base_url ?? p.defaultBase, credentials: "", enabled: c?.enabled ?? true };
  const save = useMutation({
    mutationFn: () =>
      putConnector(provider.slug, {
        base_url: form.base.trim(),
        auth_token: form.credentials.trim() || null,
        enabled: form.enabled,
      }),
    onSuccess: () => {
      setEdit(null);
      void qc.invalidateQueries({ queryKey: providerKeys.connector(provider.slug) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <section className="card stack" aria-labelledby={`${id}-h`} data-testid={p.testId}>
      <h2 id={`${id}-h`} style={{ margin: 0, fontSize: 16 }}>
        {p.title}
      </h2>
      <p className="muted" style={{ margin: 0 }}>
        {p.about}
      </p>
      {!missing && <ErrorBanner error={health.error} onRetry={() => void health.refetch()} />}
      {stream && (
        <div className="row" data-testid={`${p.testId}-health`}>
          <span className={`state ${stream.connected ? "on" : "off"}`}>
            {stream.connected ? "Connected" : "Not connected"}
          </span>
          <span className="muted">since {formatWhen(stream.since)}</span>
          <span className="muted">
            {stream.events} events{stream.failed ? `, ${stream.failed} not mapped` : ""}
          </span>
          {!stream.connected && stream.last_error && <span className="error-text">{stream.last_error}</span>}
        </div>
      )}
      <form className="stack" onSubmit={submit} noValidate>
        <div className="grid2">
          <div className="field">
            <label htmlFor={`${id}-base`}>{p.address}</label>
            <input id={`${id}-base`} value={form.base} onChange={(e) => setEdit({ ...form, base: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-cred`}>{p.credentials}</label>
            <input
              id={`${id}-cred`}
              type="password"
              autoComplete="off"
              placeholder={c?.has_auth_token ? "Stored: leave empty to keep it" : p.placeholder}
              value={form.credentials}
              onChange={(e) => setEdit({ ...form, credentials: e.target.value })}
            />
          </div>
          <label className="check">
            <input
              type="checkbox"
              checked={form.enabled}
              onChange={(e) => setEdit({ ...form, enabled: e.target.checked })}
            />
            Stream on
          </label>
        </div>
        <ErrorBanner error={save.error} />
        <div className="row">
          <button className="primary" type="submit" disabled={save.isPending}>
            {missing ? p.connect : "Save stream"}
          </button>
        </div>
      </form>
    </section>
  );
}
