// The desktop app's first start asks one question: receiver here, or
// connect to one elsewhere.
import { useState, type FormEvent } from "react";
import { Field } from "../components/Field";
import { ErrorBanner } from "../components/ErrorBanner";
import { command, commandMessage, type DesktopConnection } from "./bridge";
import { ReceiverInfo } from "./ReceiverInfo";

type Choice = "receiver" | "remote";

export function FirstRun({ onDone }: { onDone: () => void }) {
  const [choice, setChoice] = useState<Choice | null>(null);
  const [started, setStarted] = useState<DesktopConnection | null>(null);

  return (
    <div className="login">
      <div className="setup" aria-labelledby="setup-title">
        <h1 id="setup-title">Welcome to Callboard</h1>
        {started ? (
          <>
            <p className="banner ok" role="status">
              The receiver is running.
            </p>
            <ReceiverInfo connection={started} />
            <button className="primary" onClick={onDone}>
              Open the console
            </button>
          </>
        ) : (
          <>
            <fieldset className="choices">
              <legend>How does this computer run Callboard?</legend>
              <label className={`choice${choice === "receiver" ? " selected" : ""}`}>
                <input
                  type="radio"
                  name="mode"
                  value="receiver"
                  checked={choice === "receiver"}
                  onChange={() => setChoice("receiver")}
                />
                <span>
                  <strong>Run the receiver on this computer</strong>
                  <span className="muted">IVR platforms send calls here; other desktops connect to it.</span>
                </span>
              </label>
              <label className={`choice${choice === "remote" ? " selected" : ""}`}>
                <input
                  type="radio"
                  name="mode"
                  value="remote"
                  checked={choice === "remote"}
                  onChange={() => setChoice("remote")}
                />
                <span>
                  <strong>Connect to a Callboard receiver</strong>
                  <span className="muted">Another computer in the office runs the receiver.</span>
                </span>
              </label>
            </fieldset>
            {choice === "receiver" && <ReceiverForm onStarted={setStarted} />}
            {choice === "remote" && <RemoteForm onConnected={onDone} />}
          </>
        )}
      </div>
    </div>
  );
}

function ReceiverForm({ onStarted }: { onStarted: (c: DesktopConnection) => void }) {
  const [lan, setLan] = useState(true);
  const [port, setPort] = useState("8787");
  const [publicUrl, setPublicUrl] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const portNumber = Number(port);
  const portError =
    Number.isInteger(portNumber) && portNumber >= 1 && portNumber <= 65535 ? null : "A port is 1 to 65535.";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (portError) return;
    setBusy(true);
    setError(null);
    try {
      const c = await command<DesktopConnection>("setup_receiver", {
        choice: { lan, port: portNumber, publicUrl: publicUrl.trim() || null },
      });
      window.__CALLBOARD_DESKTOP__ = c;
      onStarted(c);
    } catch (err) {
      setError(commandMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="stack">
      <fieldset className="choices compact">
        <legend>Who can reach the receiver?</legend>
        <label className="check">
          <input type="radio" name="reach" checked={lan} onChange={() => setLan(true)} />
          On the network (IVR platforms and other desktops)
        </label>
        <label className="check">
          <input type="radio" name="reach" checked={!lan} onChange={() => setLan(false)} />
          This computer only
        </label>
      </fieldset>
      <Field label="Port" error={port ? portError : "Enter a port."}>
        {(p) => <input {...p} name="port" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />}
      </Field>
      {lan && (
        <Field
          label="Public URL (optional)"
          hint="When platforms reach this computer through a tunnel or port forward."
        >
          {(p) => (
            <input
              {...p}
              name="public_url"
              placeholder="https://calls.example.com"
              value={publicUrl}
              onChange={(e) => setPublicUrl(e.target.value)}
            />
          )}
        </Field>
      )}
      <ErrorBanner error={error} />
      <button className="primary" type="submit" disabled={busy}>
        {busy ? "Starting…" : "Start the receiver"}
      </button>
    </form>
  );
}

function RemoteForm({ onConnected }: { onConnected: () => void }) {
  const [url, setUrl] = useState("http://");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!/^https?:\/\/[^/]+/.test(url.trim())) {
      setError("Enter the receiver's address, like http://192.168.1.20:8787.");
      return;
    }
    if (!username.trim() || !password) {
      setError("Enter your user name and password.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await command<DesktopConnection>("setup_remote", { choice: { url: url.trim(), username, password } });
      onConnected();
    } catch (err) {
      setError(commandMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} noValidate className="stack">
      <Field label="Receiver address">
        {(p) => <input {...p} name="url" value={url} onChange={(e) => setUrl(e.target.value)} />}
      </Field>
      <Field label="User name">
        {(p) => (
          <input
            {...p}
            name="username"
            autoComplete="username"
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        )}
      </Field>
      <Field label="Password">
        {(p) => (
          <input
            {...p}
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
      </Field>
      <ErrorBanner error={error} />
      <button className="primary" type="submit" disabled={busy}>
        {busy ? "Connecting…" : "Connect"}
      </button>
    </form>
  );
}
