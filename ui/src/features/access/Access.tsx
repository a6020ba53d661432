// Masters › Access: who may reach the API besides people. Integration tokens
// give a CRM or BI tool read-only calls and/or figures (optionally for some
// departments, until a date) and are revoked in one click; sign-in locks
// (a name from one client, or a client guessing many names) are lifted here.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Page } from "../../components/Page";
import { Dialog } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { useProviders } from "../providers/queries";
import {
  accessKeys,
  disableTotp,
  enableTotp,
  setUpTotp,
  useTotp,
  type TotpSetup,
  clearLockouts,
  createIntegrationToken,
  revokeIntegrationToken,
  useIntegrationTokens,
  useLockouts,
  type IntegrationToken,
  type Lock,
  type Scope,
} from "./queries";

const SCOPES: [Scope, string][] = [
  ["calls:read", "Calls: lists, one call, CSV export, the live stream"],
  ["metrics:read", "Figures: dashboard stats, metrics, agent performance"],
  [
    "wallboard:read",
    "Wallboard: today's figures and threshold levels only, for a TV's kiosk link (no call, no number)",
  ],
];

const SCOPE_NAMES: Record<Scope, string> = {
  "calls:read": "Calls",
  "metrics:read": "Figures",
  "wallboard:read": "Wallboard",
};

/** The address a TV opens to show the wallboard with this token, no sign-in. */
export function kioskLink(origin: string, token: string): string {
  return `${origin}/dashboard?wallboard=1&kiosk=${encodeURIComponent(token)}`;
}

function when(at: string | null | undefined, none: string): string {
  return at ? new Date(at).toLocaleString() : none;
}

function state(t: IntegrationToken): "Revoked" | "Expired" | "Active" {
  if (t.revoked_at) return "Revoked";
  if (t.expires_at && new Date(t.expires_at) <= new Date()) return "Expired";
  return "Active";
}

export default function AccessPage() {
  const tokens = useIntegrationTokens();
  const locks = useLockouts();
  const providers = useProviders(true);
  const names = new Map((providers.data?.data ?? []).map((p) => [p.slug, p.name]));
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<IntegrationToken | null>(null);
  const qc = useQueryClient();
  const lift = useMutation({
    mutationFn: (l: Lock) => clearLockouts({ username: l.username, client: l.client }),
    onSuccess: () => qc.invalidateQueries({ queryKey: accessKeys.locks }),
  });
  const rows = tokens.data?.data ?? [];
  const lockRows = locks.data?.data ?? [];

  return (
    <Page
      title="Access"
      actions={
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New integration token
        </button>
      }
    >
      <section aria-labelledby="tokens-h">
        <h2 id="tokens-h">Integration tokens</h2>
        <p className="muted">
          Read-only access for a CRM or BI tool. Give it one of these, never a person&apos;s password or the admin
          token.
        </p>
        <ErrorBanner error={tokens.error} onRetry={() => void tokens.refetch()} />
        {tokens.isPending ? (
          <p className="muted">Loading tokens…</p>
        ) : rows.length === 0 ? (
          <p className="muted">No integration tokens yet.</p>
        ) : (
          <table className="plain" data-testid="tokens-table">
            <caption className="sr-only">Integration tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col">May read</th>
                <th scope="col">Departments</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => {
                const s = state(t);
                return (
                  <tr key={t.id} className={s === "Active" ? undefined : "inactive"} data-testid="token-row">
                    <td>{t.name}</td>
                    <td>
                      <code>{t.hint}…</code>
                    </td>
                    <td>{t.scopes.map((x) => SCOPE_NAMES[x]).join(", ")}</td>
                    <td>{t.departments ? t.departments.map((d) => names.get(d) ?? d).join(", ") : "All"}</td>
                    <td>{when(t.expires_at, "Never")}</td>
                    <td>{when(t.last_used_at, "Not yet")}</td>
                    <td>
                      <span className={`state ${s === "Active" ? "on" : "off"}`}>{s}</span>
                    </td>
                    <td className="actions">
                      {!t.revoked_at && (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Revoke ${t.name}`}
                          onClick={() => setRevoking(t)}
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      <TwoStep />

      <section aria-labelledby="locks-h">
        <h2 id="locks-h">Sign-in locks</h2>
        <p className="muted">
          After repeated wrong passwords, the client that typed them waits before trying again; nobody else is locked
          out. Lift a lock when a person has remembered their password.
        </p>
        <ErrorBanner error={locks.error} onRetry={() => void locks.refetch()} />
        <ErrorBanner error={lift.error} />
        {lockRows.length === 0 ? (
          <p className="muted">No sign-in locks in force.</p>
        ) : (
          <table className="plain" data-testid="locks-table">
            <caption className="sr-only">Sign-in locks in force</caption>
            <thead>
              <tr>
                <th scope="col">User name</th>
                <th scope="col">From</th>
                <th scope="col" className="num">
                  Wrong passwords
                </th>
                <th scope="col">Lifts by itself in</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {lockRows.map((l) => (
                <tr key={`${l.username ?? "*"}@${l.client}`} data-testid="lock-row">
                  <td>{l.username ?? <em>every name</em>}</td>
                  <td>
                    <code>{l.client}</code>
                  </td>
                  <td className="num">{l.failures}</td>
                  <td>{Math.ceil(l.wait_seconds / 60)} min</td>
                  <td className="actions">
                    <button
                      type="button"
                      aria-label={`Lift the lock of ${l.username ?? "every name"} from ${l.client}`}
                      aria-disabled={lift.isPending || undefined}
                      onClick={() => !lift.isPending && lift.mutate(l)}
                    >
                      Lift
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {creating && <NewTokenDialog departments={[...names]} onClose={() => setCreating(false)} />}
      {revoking && <RevokeDialog token={revoking} onClose={() => setRevoking(null)} />}
    </Page>
  );
}

function NewTokenDialog({ departments, onClose }: { departments: [string, string][]; onClose: () => void }) {
  const qc = useQueryClient();
  const formId = useId();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["calls:read"]);
  const [limited, setLimited] = useState<string[]>([]);
  const [expires, setExpires] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const errors: { name?: string; scopes?: string; expires?: string } = {};
  if (!name.trim()) errors.name = "Name who uses it, for example “Zoho CRM”.";
  if (scopes.length === 0) errors.scopes = "Choose what it may read.";
  if (expires && new Date(`${expires}T23:59:59`) <= new Date()) errors.expires = "Choose a day in the future.";
  const shown = submitted ? errors : {};
  const save = useMutation({
    mutationFn: () =>
      createIntegrationToken({
        name: name.trim(),
        scopes,
        departments: limited.length ? limited : undefined,
        expires_at: expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined,
      }),
    onSuccess: () => qc.invalidateQueries({ queryKey: accessKeys.tokens }),
  });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    setSubmitted(true);
    if (Object.keys(errors).length === 0) save.mutate();
  };
  if (save.data)
    return (
      <Dialog
        title={`Token for ${save.data.name}`}
        onClose={onClose}
        footer={
          <button type="button" className="primary" onClick={onClose}>
            Done
          </button>
        }
      >
        <p>
          Copy it now: it is shown this once. Send it as <code>Authorization: Bearer …</code>.
        </p>
        <input readOnly aria-label="The new token" value={save.data.token} onFocus={(e) => e.target.select()} />
        {save.data.scopes.includes("wallboard:read") && (
          <>
            <p>
              The kiosk link: open it on the TV (full screen, no sign-in). It shows today&apos;s figures and threshold
              levels, refreshed every 5 seconds, and stops working when you revoke the token.
            </p>
            <input
              readOnly
              aria-label="The kiosk link"
              value={kioskLink(window.location.origin, save.data.token)}
              onFocus={(e) => e.target.select()}
            />
          </>
        )}
      </Dialog>
    );
  return (
    <Dialog
      title="New integration token"
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="primary" aria-disabled={save.isPending || undefined}>
            Create token
          </button>
        </>
      }
    >
      <form id={formId} className="stack" noValidate onSubmit={onSubmit}>
        <Field label="Name" error={shown.name} hint="Who uses it: the tool or the team.">
          {(p) => (
            <input {...p} value={name} maxLength={80} autoComplete="off" onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <fieldset>
          <legend>May read</legend>
          {SCOPES.map(([s, label]) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
              />
              {label}
            </label>
          ))}
          {shown.scopes && <p className="error">{shown.scopes}</p>}
        </fieldset>
        <fieldset>
          <legend>Departments (none ticked: every department)</legend>
          {departments.map(([slug, label]) => (
            <label key={slug} className="check">
              <input
                type="checkbox"
                checked={limited.includes(slug)}
                onChange={(e) => setLimited(e.target.checked ? [...limited, slug] : limited.filter((x) => x !== slug))}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <Field label="Expires after" error={shown.expires} hint="Optional: leave empty for a token that never expires.">
          {(p) => <input {...p} type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />}
        </Field>
        <ErrorBanner error={save.error} />
      </form>
    </Dialog>
  );
}

function RevokeDialog({ token, onClose }: { token: IntegrationToken; onClose: () => void }) {
  const qc = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => revokeIntegrationToken(token.id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: accessKeys.tokens });
      onClose();
    },
  });
  return (
    <ConfirmDialog
      title={`Revoke ${token.name}?`}
      confirmLabel="Revoke"
      danger
      busy={revoke.isPending}
      error={revoke.error}
      onConfirm={() => revoke.mutate()}
      onCancel={onClose}
    >
      <p>Its next request is refused. A revoked token cannot be restored: create a new one if needed.</p>
    </ConfirmDialog>
  );
}

/** The signed-in admin's own two-step sign-in: set up with an authenticator
 * app (the secret to type in, or the otpauth link), confirmed with a code. */
function TwoStep() {
  const qc = useQueryClient();
  const status = useTotp();
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [code, setCode] = useState("");
  const done = async () => {
    setSetup(null);
    setCode("");
    await qc.invalidateQueries({ queryKey: accessKeys.totp });
  };
  const start = useMutation({ mutationFn: setUpTotp, onSuccess: (s) => setSetup(s) });
  const enable = useMutation({ mutationFn: () => enableTotp(code.trim()), onSuccess: done });
  const disable = useMutation({ mutationFn: () => disableTotp(code.trim()), onSuccess: done });
  const on = status.data?.enabled ?? false;
  return (
    <section aria-labelledby="totp-h">
      <h2 id="totp-h">Your two-step sign-in</h2>
      <ErrorBanner error={status.error} onRetry={() => void status.refetch()} />
      {status.isPending ? null : on ? (
        <form
          className="row toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            if (!disable.isPending) disable.mutate();
          }}
        >
          <p>
            <span className="state on">On</span> Signing in asks for the code of your authenticator app.
          </p>
          <Field label="Current code (to turn it off)">
            {(p) => (
              <input {...p} inputMode="numeric" value={code} maxLength={7} onChange={(e) => setCode(e.target.value)} />
            )}
          </Field>
          <button type="submit" className="danger">
            Turn off
          </button>
          <ErrorBanner error={disable.error} />
        </form>
      ) : setup ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (!enable.isPending) enable.mutate();
          }}
        >
          <p>
            In your authenticator app, add an account with this key (or open the link on the phone), then enter the code
            it shows.
          </p>
          <p>
            Key: <code data-testid="totp-secret">{setup.secret}</code>
          </p>
          <p>
            <a href={setup.otpauth_url}>Open in an authenticator app</a>
          </p>
          <Field label="Code from the app">
            {(p) => (
              <input
                {...p}
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                maxLength={7}
                onChange={(e) => setCode(e.target.value)}
              />
            )}
          </Field>
          <div className="row">
            <button type="submit" className="primary">
              Turn on
            </button>
            <button type="button" onClick={() => setSetup(null)}>
              Cancel
            </button>
          </div>
          <ErrorBanner error={enable.error} />
        </form>
      ) : (
        <div className="stack">
          <p className="muted">
            Off. With it on, your password alone cannot sign in: a code from an app on your phone is asked too.
          </p>
          <div>
            <button type="button" onClick={() => start.mutate()} aria-disabled={start.isPending || undefined}>
              Set up two-step sign-in
            </button>
          </div>
          <ErrorBanner error={start.error} />
        </div>
      )}
    </section>
  );
}
