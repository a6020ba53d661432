import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { errorText } from "../../api/errors";
import { useSession } from "../../session";

export function LoginPage() {
  const { signIn, exchange, notice } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  // Asked for once the server says this user has two-step sign-in on.
  const [needCode, setNeedCode] = useState(false);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const tried = useRef(false);

  // The first-start link `callboard serve` prints: /login?code=…
  useEffect(() => {
    const code = new URLSearchParams(window.location.search).get("code");
    if (!code || tried.current) return;
    tried.current = true;
    setBusy(true);
    exchange(code)
      .then(() => window.history.replaceState(null, "", "/"))
      .catch((e: unknown) => setError(errorText(e)))
      .finally(() => setBusy(false));
  }, [exchange]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError("Enter your user name and password.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password, needCode ? code.trim() : undefined);
    } catch (err) {
      if (err instanceof ApiError && err.code === "totp_required") {
        setNeedCode(true);
        setError("Enter the 6-digit code your authenticator app shows for Callboard.");
      } else if (err instanceof ApiError && err.code === "password_change_required" && err.serverMessage) {
        // Only a replica refuses a sign-in so (a receiver signs in and asks
        // for the change): its message says where to change the password.
        setError(err.serverMessage.charAt(0).toUpperCase() + err.serverMessage.slice(1));
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="login-title" noValidate>
        <h1 id="login-title">Sign in to Callboard</h1>
        <label>
          User name
          <input
            name="username"
            autoComplete="username"
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {needCode && (
          <label>
            Code from your authenticator app
            <input
              name="totp"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={7}
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>
        )}
        {notice && !error && (
          <div className="banner warn" role="status" data-testid="signed-out-notice">
            {notice}
          </div>
        )}
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted" style={{ margin: 0, fontSize: 12.5 }}>
          First start? Use the sign-in link that <code>callboard serve</code> printed.
        </p>
      </form>
    </div>
  );
}
