// "This computer": how the desktop app runs (receiver or remote, address,
// port), its notifications and tray, and the receiver's webhook addresses.
import { useEffect, useState, type FormEvent } from "react";
import { Page } from "../components/Page";
import { Field } from "../components/Field";
import { ErrorBanner } from "../components/ErrorBanner";
import { useVisibleProviders } from "../lib/useVisibleProviders";
import {
  command,
  commandMessage,
  desktopConnection,
  type DesktopConnection,
  type DesktopSettings as Settings,
} from "./bridge";
import { ReceiverInfo } from "./ReceiverInfo";
import { UpdatesPanel } from "./Updates";

export default function DesktopSettingsPage() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState<string | null>(null);
  const [diagnostics, setDiagnostics] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [logsDir, setLogsDir] = useState<string | null>(null);
  const connection = desktopConnection();
  const providers = useVisibleProviders();

  useEffect(() => {
    command<Settings>("settings_get")
      .then(setSettings)
      .catch((e: unknown) => setError(commandMessage(e)));
  }, []);

  if (!settings) {
    return (
      <Page title="This computer">{error ? <ErrorBanner error={error} /> : <p className="muted">Loading…</p>}</Page>
    );
  }

  const set = (patch: (s: Settings) => Settings) => {
    setSaved(false);
    setSettings(patch(settings));
  };
  const notifications = settings.notifications;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const next = await command<DesktopConnection | null>("settings_save", { settings });
      // A new mode, address or port means a new backend: reload onto it.
      if (next && (next.apiBase !== connection?.apiBase || next.token !== connection?.token)) {
        window.location.assign("/");
        return;
      }
      setSaved(true);
    } catch (err) {
      setError(commandMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="This computer">
      <form className="stack settings" onSubmit={(e) => void save(e)} noValidate>
        <section className="panel stack" aria-labelledby="run-title">
          <h2 id="run-title">How this computer runs Callboard</h2>
          <fieldset className="choices compact">
            <legend className="sr-only">Mode</legend>
            <label className="check">
              <input
                type="radio"
                name="mode"
                checked={settings.mode === "receiver"}
                onChange={() => set((s) => ({ ...s, mode: "receiver" }))}
              />
              Run the receiver on this computer
            </label>
            <label className="check">
              <input
                type="radio"
                name="mode"
                checked={settings.mode === "remote"}
                onChange={() => set((s) => ({ ...s, mode: "remote" }))}
              />
              Connect to a Callboard receiver
            </label>
          </fieldset>
          {settings.mode === "receiver" ? (
            <>
              <label className="check">
                <input
                  type="checkbox"
                  checked={settings.receiver.lan}
                  onChange={(e) => set((s) => ({ ...s, receiver: { ...s.receiver, lan: e.target.checked } }))}
                />
                On the network (unticked: this computer only)
              </label>
              <Field label="Port">
                {(p) => (
                  <input
                    {...p}
                    name="port"
                    inputMode="numeric"
                    value={String(settings.receiver.port)}
                    onChange={(e) =>
                      set((s) => ({ ...s, receiver: { ...s.receiver, port: Number(e.target.value) || 0 } }))
                    }
                  />
                )}
              </Field>
              <Field label="Public URL (optional)">
                {(p) => (
                  <input
                    {...p}
                    name="public_url"
                    value={settings.receiver.public_url ?? ""}
                    onChange={(e) =>
                      set((s) => ({ ...s, receiver: { ...s.receiver, public_url: e.target.value.trim() || null } }))
                    }
                  />
                )}
              </Field>
            </>
          ) : (
            <Field
              label="Receiver address"
              hint="To connect to another receiver, sign in again from the first-run screen."
            >
              {(p) => <input {...p} name="remote_url" readOnly value={settings.remote.url} />}
            </Field>
          )}
          {connection?.mode === "receiver" && <ReceiverInfo connection={connection} />}
          {connection?.mode === "receiver" && (
            <div className="row">
              <button
                type="button"
                onClick={() =>
                  void command<string | null>("admin_password")
                    .then((p) => setPassword(p ?? "(not created by this app)"))
                    .catch((e: unknown) => setError(commandMessage(e)))
                }
              >
                Show the admin password
              </button>
              {password && <code data-testid="admin-password">{password}</code>}
            </div>
          )}
          {connection?.mode === "receiver" && password && (
            <p className="muted">
              The password this app created at the first start. Signing in with it from a browser first asks for a
              password of your own; after that, this one no longer works.
            </p>
          )}
        </section>

        <section className="panel stack" aria-labelledby="notify-title">
          <h2 id="notify-title">Notifications</h2>
          <label className="check">
            <input
              type="checkbox"
              checked={notifications.do_not_disturb}
              onChange={(e) =>
                set((s) => ({ ...s, notifications: { ...s.notifications, do_not_disturb: e.target.checked } }))
              }
            />
            Do not disturb
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={notifications.sla_breaches}
              onChange={(e) =>
                set((s) => ({ ...s, notifications: { ...s.notifications, sla_breaches: e.target.checked } }))
              }
            />
            Notify callback SLA breaches
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={notifications.thresholds}
              onChange={(e) =>
                set((s) => ({ ...s, notifications: { ...s.notifications, thresholds: e.target.checked } }))
              }
            />
            Notify when a department&apos;s figure turns amber or red (its thresholds)
          </label>
          <label className="check">
            <input
              type="checkbox"
              name="voicemails"
              checked={notifications.voicemails}
              onChange={(e) =>
                set((s) => ({ ...s, notifications: { ...s.notifications, voicemails: e.target.checked } }))
              }
            />
            Notify when a voicemail is left for me
          </label>
          <fieldset className="choices compact">
            <legend>Missed calls from these departments notify</legend>
            {providers.map((p) => (
              <label key={p.slug} className="row">
                <input
                  type="checkbox"
                  checked={!notifications.muted.includes(p.slug)}
                  onChange={(e) =>
                    set((s) => ({
                      ...s,
                      notifications: {
                        ...s.notifications,
                        muted: e.target.checked
                          ? s.notifications.muted.filter((m) => m !== p.slug)
                          : [...s.notifications.muted, p.slug],
                      },
                    }))
                  }
                />
                {p.name}
              </label>
            ))}
          </fieldset>
          <label className="check">
            <input
              type="checkbox"
              checked={settings.close_to_tray}
              onChange={(e) => set((s) => ({ ...s, close_to_tray: e.target.checked }))}
            />
            Closing the window keeps Callboard running in the tray
          </label>
          <label className="check">
            <input
              type="checkbox"
              name="autostart"
              checked={settings.autostart ?? settings.mode === "receiver"}
              onChange={(e) => set((s) => ({ ...s, autostart: e.target.checked }))}
            />
            Start Callboard when I sign in to this computer (in the tray)
          </label>
          {settings.mode === "receiver" && !(settings.autostart ?? true) && (
            <p className="hint" role="note">
              After a restart, webhooks fail until someone opens Callboard on this computer.
            </p>
          )}
        </section>

        <UpdatesPanel
          channel={settings.updates.channel}
          automatic={settings.updates.automatic}
          onChange={(updates) => set((s) => ({ ...s, updates }))}
        />

        <section className="panel stack" aria-labelledby="support-title">
          <h2 id="support-title">Support</h2>
          <p className="muted">
            Callboard keeps a log file a day on this computer for a week. When something goes wrong, send the
            diagnostics (versions, mode, health and the log&apos;s last lines; never a password or token) to whoever
            helps you.
          </p>
          <div className="row">
            <button
              type="button"
              onClick={() =>
                void command<string>("open_logs")
                  .then((dir) => setLogsDir(dir))
                  .catch((e: unknown) => setError(commandMessage(e)))
              }
            >
              Open logs
            </button>
            <button
              type="button"
              onClick={() =>
                void command<string>("diagnostics")
                  .then(async (text) => {
                    setDiagnostics(text);
                    try {
                      await navigator.clipboard.writeText(text);
                      setCopied(true);
                    } catch {
                      // No clipboard (permissions): the text is shown to copy by hand.
                      setCopied(false);
                    }
                  })
                  .catch((e: unknown) => setError(commandMessage(e)))
              }
            >
              Copy diagnostics
            </button>
            {logsDir && <code data-testid="logs-dir">{logsDir}</code>}
          </div>
          {diagnostics !== null && (
            <>
              <p className="muted" role="status">
                {copied ? "Copied to the clipboard." : "Select and copy the text below."}
              </p>
              <pre className="diagnostics" data-testid="diagnostics" tabIndex={0}>
                {diagnostics}
              </pre>
            </>
          )}
        </section>

        <ErrorBanner error={error} />
        {saved && (
          <p className="banner ok" role="status">
            Saved.
          </p>
        )}
        <div className="form-actions">
          <button className="primary" type="submit" disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </Page>
  );
}
