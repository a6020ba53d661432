// "Updates" on This computer: the channel, automatic checks, and check →
// download (signature verified by the shell) → restart.
import { useEffect, useState } from "react";
import { ErrorBanner } from "../components/ErrorBanner";
import {
  command,
  commandMessage,
  onShellEvent,
  type UpdateChannel,
  type UpdateProgress,
  type UpdateStatus,
} from "./bridge";

interface Props {
  channel: UpdateChannel;
  automatic: boolean;
  onChange: (next: { channel: UpdateChannel; automatic: boolean }) => void;
}

function size(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
}

export function UpdatesPanel({ channel, automatic, onChange }: Props) {
  const [status, setStatus] = useState<UpdateStatus | null>(null);
  const [busy, setBusy] = useState<"check" | "install" | null>(null);
  const [checked, setChecked] = useState(false);
  const [progress, setProgress] = useState<UpdateProgress | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    command<UpdateStatus>("update_status")
      .then(setStatus)
      .catch((e: unknown) => setError(commandMessage(e)));
    const stops: (() => void)[] = [];
    let gone = false;
    const keep = (stop: () => void) => {
      if (gone) stop();
      else stops.push(stop);
    };
    void onShellEvent<UpdateProgress>("update-progress", setProgress).then(keep);
    // The automatic check found a version: show it without a click.
    void onShellEvent<unknown>("update-available", () => {
      void command<UpdateStatus>("update_status").then(setStatus);
    }).then(keep);
    return () => {
      gone = true;
      stops.forEach((s) => s());
    };
  }, []);

  const run = async (what: "check" | "install") => {
    setBusy(what);
    setError(null);
    setProgress(null);
    try {
      const next =
        what === "check"
          ? await command<UpdateStatus>("update_check", { channel })
          : await command<UpdateStatus>("update_install");
      setStatus(next);
      setChecked(true);
    } catch (e) {
      setError(commandMessage(e));
      // What is on offer may have changed (or the failed install cleared nothing).
      void command<UpdateStatus>("update_status").then(setStatus);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="panel stack" aria-labelledby="updates-title">
      <h2 id="updates-title">Updates</h2>
      <p className="muted">This is Callboard {status?.current ?? "…"}.</p>
      {status && !status.enabled && (
        <p className="hint" role="note">
          This build does not update itself (it was built without an update address and key): install new versions by
          hand.
        </p>
      )}
      <label className="row">
        Channel
        <select
          name="update_channel"
          value={channel}
          onChange={(e) => onChange({ channel: e.target.value as UpdateChannel, automatic })}
        >
          <option value="stable">Stable</option>
          <option value="beta">Beta (release candidates and every stable release)</option>
        </select>
      </label>
      <label className="check">
        <input
          type="checkbox"
          name="update_automatic"
          checked={automatic}
          onChange={(e) => onChange({ channel, automatic: e.target.checked })}
        />
        Look for new versions twice a day and tell me
      </label>
      <div className="row">
        <button type="button" disabled={busy !== null || !status?.enabled} onClick={() => void run("check")}>
          {busy === "check" ? "Checking…" : "Check for updates"}
        </button>
      </div>
      <div data-testid="update-state" role="status" className="stack">
        {status?.installed ? (
          <>
            <p>Callboard {status.installed} is installed. Restart Callboard to use it.</p>
            <div className="row">
              <button className="primary" type="button" onClick={() => void command("update_restart")}>
                Restart now
              </button>
            </div>
          </>
        ) : status?.offer ? (
          <>
            <p>
              Callboard {status.offer.version} is available{status.offer.date ? ` (${status.offer.date})` : ""}.
            </p>
            {status.offer.notes && <pre className="release-notes">{status.offer.notes}</pre>}
            <div className="row">
              <button type="button" className="primary" disabled={busy !== null} onClick={() => void run("install")}>
                {busy === "install" ? "Downloading…" : "Download and install"}
              </button>
              {busy === "install" && progress && (
                <progress
                  aria-label="Download"
                  max={progress.total ?? undefined}
                  value={progress.total ? progress.downloaded : undefined}
                >
                  {size(progress.downloaded)}
                </progress>
              )}
            </div>
          </>
        ) : (
          checked && <p>Callboard {status?.current} is the latest version on this channel.</p>
        )}
      </div>
      <ErrorBanner error={error} />
    </section>
  );
}
