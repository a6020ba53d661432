// The provider form's "Callback SLA and routing" card: business hours for
// the SLA clock (time zone, weekly intervals, holidays) and how new missed
// calls are assigned to agents.
import { useId } from "react";
import { STRATEGIES, type Strategy } from "../../api/types";
import { Field } from "../../components/Field";
import { draftToHours, WEEKDAYS, type HoursDraft } from "../../lib/hours";
import type { ProviderDraft } from "./providerDraft";

export function SlaRouting({
  draft,
  showErrors,
  onChange,
}: {
  draft: ProviderDraft;
  showErrors: boolean;
  onChange: (next: Partial<ProviderDraft>) => void;
}) {
  const id = useId();
  const h = draft.hours;
  const errs = showErrors ? draftToHours(h).errors : {};
  const setHours = (next: Partial<HoursDraft>) => onChange({ hours: { ...h, ...next } });
  return (
    <section className="card stack" aria-labelledby={`${id}-h`} data-testid="sla-routing">
      <h3 id={`${id}-h`}>Callback SLA and routing</h3>
      <label className="row">
        <input type="checkbox" checked={h.enabled} onChange={(e) => setHours({ enabled: e.target.checked })} />
        Count the SLA only in business hours
      </label>
      {!h.enabled && <p className="muted">The SLA clock runs around the clock (24×7).</p>}
      {h.enabled && (
        <div className="stack">
          <Field label="Time zone" error={errs.timeZone} hint="An IANA time zone, e.g. Europe/London or Asia/Kolkata.">
            {(p) => (
              <input
                {...p}
                value={h.timeZone}
                spellCheck={false}
                autoComplete="off"
                onChange={(e) => setHours({ timeZone: e.target.value })}
              />
            )}
          </Field>
          <div className="grid2">
            {WEEKDAYS.map(([day, label]) => (
              <Field
                key={day}
                label={label}
                error={errs[day]}
                hint={day === "mon" ? "e.g. 09:00-13:00, 14:00-18:00; blank: closed." : undefined}
              >
                {(p) => (
                  <input
                    {...p}
                    className="mono"
                    value={h.days[day]}
                    placeholder="closed"
                    spellCheck={false}
                    autoComplete="off"
                    onChange={(e) => setHours({ days: { ...h.days, [day]: e.target.value } })}
                  />
                )}
              </Field>
            ))}
          </div>
          <Field label="Holidays" error={errs.holidays} hint="Closed dates, YYYY-MM-DD, one per line.">
            {(p) => (
              <textarea
                {...p}
                rows={2}
                className="mono"
                value={h.holidays}
                spellCheck={false}
                onChange={(e) => setHours({ holidays: e.target.value })}
              />
            )}
          </Field>
        </div>
      )}
      <div className="grid2">
        <Field
          label="Routing"
          hint="How new missed and hangup calls are assigned. Never to agents who are away or offline."
        >
          {(p) => (
            <select {...p} value={draft.strategy} onChange={(e) => onChange({ strategy: e.target.value as Strategy })}>
              {STRATEGIES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        {draft.strategy === "skills" && (
          <Field
            label="Required skills"
            error={showErrors && !draft.routingSkills.trim() ? "Give at least one skill." : undefined}
            hint="Separated by commas; agents need every one."
          >
            {(p) => (
              <input
                {...p}
                value={draft.routingSkills}
                autoComplete="off"
                onChange={(e) => onChange({ routingSkills: e.target.value })}
              />
            )}
          </Field>
        )}
      </div>
      <label className="row">
        <input
          type="checkbox"
          checked={draft.autoResolve}
          onChange={(e) => onChange({ autoResolve: e.target.checked })}
        />
        Settle a missed call by itself when the caller is reached
      </label>
      <p className="muted">
        {draft.autoResolve
          ? "When the caller calls again and is answered, or is dialled back and answers, their earlier missed calls leave the worklist, with a note saying which call reached them."
          : "Missed calls stay on the worklist until a person records a disposition, even after the caller is reached."}
      </p>
    </section>
  );
}
