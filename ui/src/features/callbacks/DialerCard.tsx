// A department's click-to-call platform: which one, its public settings, and
// its secrets (write-only: the server keeps them in its secret store and
// only says which are missing).
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { DialerSpec, DialerView, Provider } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { titleCase } from "../../lib/format";
import { deleteDialer, putDialer, refreshDialers, useDialerKinds, useDialers } from "./queries";

export function DialerCard({ provider }: { provider: Provider }) {
  const dialers = useDialers();
  const kinds = useDialerKinds();
  const current = dialers.data?.find((d) => d.department === provider.slug);
  if (!kinds.data) return <ErrorBanner error={kinds.error ?? dialers.error} />;
  return (
    <DialerForm
      key={`${provider.slug}-${current?.updated_at ?? "none"}`}
      provider={provider}
      current={current}
      kinds={kinds.data}
    />
  );
}

function DialerForm({ provider, current, kinds }: { provider: Provider; current?: DialerView; kinds: DialerSpec[] }) {
  const id = useId();
  const qc = useQueryClient();
  const [kind, setKind] = useState<string>(current?.kind ?? "");
  const [fields, setFields] = useState<Record<string, string>>(current?.fields ?? {});
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const spec = kinds.find((k) => k.kind === kind);

  const save = useMutation({
    mutationFn: () => {
      if (!spec) throw new Error("Choose a platform.");
      const given = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v.trim() !== ""));
      const publicFields = Object.fromEntries(
        spec.fields.flatMap((f) => {
          const v = (fields[f.name] ?? "").trim();
          return !f.secret && v !== "" ? [[f.name, v]] : [];
        }),
      );
      return putDialer(provider.slug, { kind: spec.kind, fields: publicFields, secrets: given });
    },
    onSuccess: () => {
      setSecrets({});
      refreshDialers(qc);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteDialer(provider.slug),
    onSuccess: () => refreshDialers(qc),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const secretPlaceholder = (name: string) =>
    current && current.kind === spec?.kind && !current.missing_secrets.includes(name)
      ? "Stored: leave empty to keep it"
      : "";

  return (
    <section className="card stack" aria-labelledby={`${id}-h`} data-testid="dialer">
      <h2 id={`${id}-h`} style={{ margin: 0, fontSize: 16 }}>
        Click-to-call
      </h2>
      <p className="muted" style={{ margin: 0 }}>
        Agents press <strong>Call back</strong> on a missed call: the platform rings the agent&apos;s phone first, then
        the caller. Without a platform here, Call back opens the agent&apos;s own phone (a tel: link).
      </p>
      {kind === "twilio" && (
        <p className="muted" style={{ margin: 0 }} data-testid="dialer-twilio-queues">
          With Twilio, IVR queues with hold music also ring the agents through it: the caller waits in a Twilio queue
          hearing the music, and the first agent to answer takes the call.
        </p>
      )}
      {current && (
        <div className="row" data-testid="dialer-health">
          <span className={`state ${current.ready ? "on" : "off"}`}>
            {current.ready ? `Ready · ${current.label}` : `Needs ${current.missing_secrets.join(", ")}`}
          </span>
          <span className="muted">Circuit {titleCase(current.circuit)}</span>
          {!current.reports_status && (
            <span className="muted">Outcomes arrive with the platform&apos;s call webhooks.</span>
          )}
        </div>
      )}
      <form className="stack" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Platform</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value)} data-testid="dialer-kind">
            <option value="">None</option>
            {kinds.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        {spec && (
          <div className="grid2">
            {spec.fields.map((f) => (
              <div className="field" key={f.name}>
                <label htmlFor={`${id}-${f.name}`}>
                  {f.label}
                  {f.required && !f.secret ? " *" : ""}
                </label>
                {f.secret && f.multiline ? (
                  // A PEM key: a one-line input would drop its line breaks.
                  <textarea
                    id={`${id}-${f.name}`}
                    rows={4}
                    autoComplete="off"
                    spellCheck={false}
                    placeholder={secretPlaceholder(f.name)}
                    value={secrets[f.name] ?? ""}
                    onChange={(e) => setSecrets({ ...secrets, [f.name]: e.target.value })}
                    data-testid={`dialer-${f.name}`}
                  />
                ) : f.secret ? (
                  <input
                    id={`${id}-${f.name}`}
                    type="password"
                    autoComplete="off"
                    placeholder={secretPlaceholder(f.name)}
                    value={secrets[f.name] ?? ""}
                    onChange={(e) => setSecrets({ ...secrets, [f.name]: e.target.value })}
                    data-testid={`dialer-${f.name}`}
                  />
                ) : (
                  <input
                    id={`${id}-${f.name}`}
                    value={fields[f.name] ?? ""}
                    placeholder={f.name === "base_url" ? f.label : ""}
                    onChange={(e) => setFields({ ...fields, [f.name]: e.target.value })}
                    data-testid={`dialer-${f.name}`}
                  />
                )}
              </div>
            ))}
          </div>
        )}
        <ErrorBanner error={save.error ?? remove.error} />
        <div className="row">
          <button className="primary" type="submit" disabled={!spec || save.isPending} data-testid="dialer-save">
            Save click-to-call
          </button>
          {current && (
            <button type="button" onClick={() => remove.mutate()} disabled={remove.isPending}>
              Remove
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
