import { useState, type FormEvent } from "react";
import { Dialog } from "../../components/Dialog";
import { Field } from "../../components/Field";
import { ApiError } from "../../api/client";
import { errorText } from "../../api/errors";
import { changePassword } from "./queries";

interface Problems {
  current?: string;
  next?: string;
  repeat?: string;
}

/** What is wrong with the form, before asking the server. */
export function passwordProblems(current: string, next: string, repeat: string): Problems {
  const p: Problems = {};
  if (!current) p.current = "Enter the password you use now.";
  if ([...next].length < 8) p.next = "At least 8 characters.";
  else if (next === current) p.next = "Choose a password other than the current one.";
  if (repeat !== next) p.repeat = "The two new passwords differ.";
  return p;
}

/** Changes the signed-in person's password; the server asks for the current one. */
export function PasswordDialog({ onClose }: { onClose: () => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [shown, setShown] = useState<Problems>({});
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const formId = "password-form";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = passwordProblems(current, next, repeat);
    setShown(problems);
    setError(null);
    if (Object.keys(problems).length) return;
    setBusy(true);
    try {
      const r = await changePassword(current, next);
      setDone(r.other_sessions_ended);
    } catch (err) {
      if (err instanceof ApiError && err.code === "bad_credentials") {
        setShown({ current: "That is not your current password." });
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  if (done !== null) {
    return (
      <Dialog title="Password changed" onClose={onClose} footer={<button onClick={onClose}>Close</button>}>
        <p className="banner done" role="status" data-testid="password-changed">
          Your password is changed.{" "}
          {done === 0
            ? "You were not signed in anywhere else."
            : `${done} other ${done === 1 ? "session was" : "sessions were"} signed out.`}
        </p>
      </Dialog>
    );
  }
  return (
    <Dialog
      title="Change your password"
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="primary" aria-disabled={busy || undefined}>
            {busy ? "Changing…" : "Change password"}
          </button>
        </>
      }
    >
      <form id={formId} onSubmit={(e) => void submit(e)} noValidate>
        <Field label="Current password" error={shown.current}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="current-password"
              value={current}
              onChange={(e) => setCurrent(e.target.value)}
            />
          )}
        </Field>
        <Field label="New password" error={shown.next} hint="At least 8 characters. Your other sessions will end.">
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="new-password"
              value={next}
              onChange={(e) => setNext(e.target.value)}
            />
          )}
        </Field>
        <Field label="New password again" error={shown.repeat}>
          {(p) => (
            <input
              {...p}
              type="password"
              autoComplete="new-password"
              value={repeat}
              onChange={(e) => setRepeat(e.target.value)}
            />
          )}
        </Field>
        {error && (
          <div className="banner error" role="alert">
            {error}
          </div>
        )}
      </form>
    </Dialog>
  );
}
