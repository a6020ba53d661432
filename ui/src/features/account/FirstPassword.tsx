// A session signed in with a printed (first-start) or temporary password may
// do one thing: choose a new password. The server refuses everything else
// (403 `password_change_required`), so the console shows only this.
import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { errorText } from "../../api/errors";
import { keys } from "../../api/keys";
import { useSession } from "../../session";
import { passwordProblems } from "./PasswordDialog";
import { changePassword } from "./queries";

export function FirstPasswordPage() {
  const { me, signOut } = useSession();
  const qc = useQueryClient();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = passwordProblems(current, next, repeat);
    const first = problems.current ?? problems.next ?? problems.repeat;
    if (first) {
      setError(first);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await changePassword(current, next);
      // The same session is a full one now: read it again to enter.
      await qc.invalidateQueries({ queryKey: keys.me });
    } catch (err) {
      setError(
        err instanceof ApiError && err.code === "bad_credentials"
          ? "That is not the password you signed in with."
          : errorText(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="first-password-title" noValidate>
        <h1 id="first-password-title">Choose your own password</h1>
        <p className="muted" style={{ margin: 0 }} data-testid="first-password-why">
          {me?.user?.username ? (
            <>
              Signed in as <strong>{me.user.username}</strong> with a password that was printed at the first start or
              given to you as temporary.
            </>
          ) : (
            <>You signed in with a password that was printed at the first start or given to you as temporary.</>
          )}{" "}
          Choose one only you know before going on.
        </p>
        <label>
          Password you signed in with
          <input
            name="current"
            type="password"
            autoComplete="current-password"
            autoFocus
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <label>
          New password (at least 8 characters)
          <input
            name="new"
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        </label>
        <label>
          New password again
          <input
            name="repeat"
            type="password"
            autoComplete="new-password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </label>
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save and continue"}
        </button>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </form>
    </div>
  );
}
