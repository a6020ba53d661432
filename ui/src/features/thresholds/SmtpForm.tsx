// The mail server e-mail alerts go through; the password is write-only.
import { Field } from "../../components/Field";
import { smtpErrors, type SmtpDraft } from "./channels";
import type { SmtpSecurity } from "./model";

export function SmtpForm({
  smtp,
  showErrors,
  onChange,
}: {
  smtp: SmtpDraft;
  showErrors: boolean;
  onChange: (next: SmtpDraft) => void;
}) {
  const set = (patch: Partial<SmtpDraft>) => onChange({ ...smtp, ...patch });
  const e = showErrors ? smtpErrors(smtp) : {};
  return (
    <section className="card stack" aria-labelledby="smtp-h" data-testid="smtp">
      <h3 id="smtp-h">E-mail (SMTP)</h3>
      <label className="row">
        <input type="checkbox" checked={smtp.enabled} onChange={(ev) => set({ enabled: ev.target.checked })} />
        Send e-mail alerts through an SMTP server
      </label>
      {smtp.enabled && (
        <div className="grid2">
          <Field label="SMTP server" error={e.host}>
            {(p) => (
              <input {...p} value={smtp.host} autoComplete="off" onChange={(ev) => set({ host: ev.target.value })} />
            )}
          </Field>
          <Field label="Port" error={e.port}>
            {(p) => (
              <input {...p} inputMode="numeric" value={smtp.port} onChange={(ev) => set({ port: ev.target.value })} />
            )}
          </Field>
          <Field label="Security">
            {(p) => (
              <select
                {...p}
                value={smtp.security}
                onChange={(ev) => set({ security: ev.target.value as SmtpSecurity })}
              >
                <option value="starttls">STARTTLS (usually port 587)</option>
                <option value="tls">TLS (usually port 465)</option>
                <option value="none">None (a relay on the LAN)</option>
              </select>
            )}
          </Field>
          <Field label="Sender address" error={e.from}>
            {(p) => (
              <input {...p} value={smtp.from} autoComplete="off" onChange={(ev) => set({ from: ev.target.value })} />
            )}
          </Field>
          <Field label="SMTP user name">
            {(p) => (
              <input
                {...p}
                value={smtp.username}
                autoComplete="off"
                onChange={(ev) => set({ username: ev.target.value })}
              />
            )}
          </Field>
          <Field
            label="SMTP password"
            hint={smtp.hasPassword ? "A password is stored; leave blank to keep it." : "Never shown again once saved."}
          >
            {(p) => (
              <input
                {...p}
                type="password"
                value={smtp.password}
                autoComplete="new-password"
                disabled={smtp.forgetPassword}
                onChange={(ev) => set({ password: ev.target.value })}
              />
            )}
          </Field>
          {smtp.hasPassword && (
            <label className="row">
              <input
                type="checkbox"
                checked={smtp.forgetPassword}
                onChange={(ev) => set({ forgetPassword: ev.target.checked, password: "" })}
              />
              Forget the stored password
            </label>
          )}
        </div>
      )}
    </section>
  );
}
