// The department's "sorry we missed you" text: on/off, the template, quiet
// hours in the department's zone, one per caller per so many hours; and the
// latest messages with their state.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import type { Provider, SmsSettings } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatPhone, formatWhen, titleCase } from "../../lib/format";
import { deleteSms, putSms, smsKeys, useSmsMessages, useSmsSettings } from "./queries";

const DEFAULT_TEMPLATE = "Sorry we missed your call. {department} will call you back shortly.";

function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function SmsCard({ provider }: { provider: Provider }) {
  const settings = useSmsSettings(provider.slug);
  const none = settings.error instanceof ApiError && settings.error.status === 404;
  if (settings.isPending) return null;
  return (
    <SmsForm
      key={JSON.stringify(settings.data ?? null)}
      provider={provider}
      current={none ? undefined : settings.data}
      error={none ? null : settings.error}
    />
  );
}

function SmsForm({ provider, current, error }: { provider: Provider; current?: SmsSettings; error: Error | null }) {
  const id = useId();
  const qc = useQueryClient();
  const messages = useSmsMessages(provider.slug);
  const [form, setForm] = useState<SmsSettings>(
    current ?? {
      enabled: true,
      template: DEFAULT_TEMPLATE,
      quiet_from: "21:00",
      quiet_to: "09:00",
      time_zone: browserZone(),
      min_gap_hours: 12,
    },
  );
  const done = () => void qc.invalidateQueries({ queryKey: smsKeys.settings(provider.slug) });
  const save = useMutation({
    mutationFn: () =>
      putSms(provider.slug, {
        ...form,
        quiet_from: form.quiet_from || null,
        quiet_to: form.quiet_to || null,
      }),
    onSuccess: done,
  });
  const remove = useMutation({ mutationFn: () => deleteSms(provider.slug), onSuccess: done });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <section className="card stack" aria-labelledby={`${id}-h`} data-testid="sms">
      <h2 id={`${id}-h`} style={{ margin: 0, fontSize: 16 }}>
        Text missed callers
      </h2>
      <p className="muted" style={{ margin: 0 }}>
        When a call lands in the worklist, the caller gets this text through the department&apos;s click-to-call
        platform (Exotel, Twilio, Plivo, Vonage or Dialpad), once per number in the gap you set. A text due in quiet
        hours waits for their end.
      </p>
      <ErrorBanner error={error} />
      <form className="stack" onSubmit={submit} noValidate>
        <label className="check">
          <input
            type="checkbox"
            checked={form.enabled}
            onChange={(e) => setForm({ ...form, enabled: e.target.checked })}
          />
          Send texts
        </label>
        <div className="field">
          <label htmlFor={`${id}-t`}>
            Text ({"{department}"}, {"{caller_name}"} are filled in)
          </label>
          <textarea
            id={`${id}-t`}
            rows={3}
            maxLength={480}
            value={form.template}
            onChange={(e) => setForm({ ...form, template: e.target.value })}
          />
        </div>
        <div className="grid2">
          <div className="field">
            <label htmlFor={`${id}-qf`}>Quiet from</label>
            <input
              id={`${id}-qf`}
              type="time"
              value={form.quiet_from ?? ""}
              onChange={(e) => setForm({ ...form, quiet_from: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-qt`}>Quiet until</label>
            <input
              id={`${id}-qt`}
              type="time"
              value={form.quiet_to ?? ""}
              onChange={(e) => setForm({ ...form, quiet_to: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-tz`}>Time zone</label>
            <input
              id={`${id}-tz`}
              value={form.time_zone}
              onChange={(e) => setForm({ ...form, time_zone: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-gap`}>At most one text per caller every (hours)</label>
            <input
              id={`${id}-gap`}
              inputMode="numeric"
              value={String(form.min_gap_hours)}
              onChange={(e) => setForm({ ...form, min_gap_hours: Number(e.target.value) || 0 })}
            />
          </div>
        </div>
        <ErrorBanner error={save.error ?? remove.error} />
        <div className="row">
          <button className="primary" type="submit" disabled={save.isPending}>
            Save texts
          </button>
          {current && (
            <button type="button" onClick={() => remove.mutate()} disabled={remove.isPending}>
              Stop texting
            </button>
          )}
        </div>
      </form>
      {messages.data && messages.data.length > 0 && (
        <table aria-label="Latest texts">
          <thead>
            <tr>
              <th>To</th>
              <th>State</th>
              <th>When</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {messages.data.slice(0, 10).map((m) => (
              <tr key={m.id}>
                <td>{formatPhone(m.to_number)}</td>
                <td>{titleCase(m.state)}</td>
                <td>{formatWhen(m.sent_at ?? m.send_after)}</td>
                <td className="muted">{m.detail ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
