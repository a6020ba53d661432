import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { CallDetail, CallbackAttempt, AttemptState, DialerView } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatDuration, formatPhone, formatWhen, telHref } from "../../lib/format";
import { refreshAfterCallWrite } from "../calls/queries";
import { callBack, rememberAgent, rememberedAgent, useDialers } from "./queries";

const STATE_WORDS: Record<AttemptState, string> = {
  requested: "Requested",
  dialling: "Ringing your phone…",
  connected: "Connected",
  no_answer: "No answer",
  busy: "Busy",
  failed: "Failed",
  agent_unreachable: "Your phone did not answer",
};

const AGENT_LABEL: Record<DialerView["agent"], string> = {
  phone: "Your phone (rung first)",
  user_id: "Your user id on the platform",
  agent_id: "Your agent id on the platform (signed in)",
};

/** Call back: through the department's platform when it has a ready dialer
 * (the agent's phone rings first, then the caller's), else a `tel:` link. */
export function CallBackPanel({ call, autoFocus }: { call: CallDetail; autoFocus?: boolean }) {
  const dialers = useDialers();
  const dialer = dialers.data?.find((d) => d.department === call.department);
  const tel = telHref(call.mobile_number);
  const resolved = call.work_state === "resolved";

  return (
    <div className="stack" data-testid="call-back">
      {dialer?.ready && !resolved ? (
        <CallBackForm key={dialer.kind} call={call} dialer={dialer} autoFocus={autoFocus} />
      ) : (
        tel &&
        !resolved && (
          <p className="row">
            <a className="button" href={tel} data-testid="call-back-tel">
              Call back {formatPhone(call.mobile_number)}
            </a>
            <span className="muted">
              {dialer && !dialer.ready
                ? `The ${dialer.label} dialer lacks ${dialer.missing_secrets.join(", ")}: your own phone dials.`
                : "Your phone dials the number; record the outcome below."}
            </span>
          </p>
        )
      )}
      <Attempts attempts={call.callbacks} />
      {call.sms.map((m) => (
        <p key={m.id} className={m.state === "failed" ? "error-text" : "muted"} data-testid="call-sms">
          {m.state === "sent"
            ? `Texted ${formatPhone(m.to_number)} ${formatWhen(m.sent_at)}: “${m.body}”`
            : m.state === "queued"
              ? `Text to ${formatPhone(m.to_number)} waits until ${formatWhen(m.send_after)} (quiet hours or a retry)`
              : `Text to ${formatPhone(m.to_number)} failed: ${m.detail ?? "no reason given"}`}
        </p>
      ))}
    </div>
  );
}

function CallBackForm({ call, dialer, autoFocus }: { call: CallDetail; dialer: DialerView; autoFocus?: boolean }) {
  const qc = useQueryClient();
  const [agent, setAgent] = useState(() => rememberedAgent(dialer.kind));
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (autoFocus) input.current?.focus();
  }, [autoFocus]);

  const start = useMutation({
    mutationFn: () => callBack(call.call_id, call.department, agent.trim()),
    onSuccess: () => rememberAgent(dialer.kind, agent.trim()),
    onSettled: () => refreshAfterCallWrite(qc, call.department, call.call_id),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (agent.trim()) start.mutate();
  };

  return (
    <>
      <form className="row" onSubmit={submit} aria-label="Call back through the platform">
        <label className="grow">
          <span>{AGENT_LABEL[dialer.agent]}</span>
          <input
            ref={input}
            value={agent}
            onChange={(e) => setAgent(e.target.value)}
            placeholder={dialer.agent === "phone" ? "+91 98xxx xxxxx" : "id"}
            autoComplete="tel"
            required
            data-testid="call-back-agent"
          />
        </label>
        <button
          type="submit"
          className="primary"
          disabled={start.isPending || !agent.trim()}
          data-testid="call-back-start"
        >
          Call back {formatPhone(call.mobile_number)}
        </button>
        <span className="muted">via {dialer.label}</span>
      </form>
      {start.isSuccess && call.callbacks.at(-1)?.state === "dialling" && (
        <p role="status" className="banner done" data-testid="call-back-started">
          Ringing your phone; when you answer, {formatPhone(call.mobile_number)} is dialled.
        </p>
      )}
      <ErrorBanner error={start.error} />
    </>
  );
}

function Attempts({ attempts }: { attempts: CallbackAttempt[] }) {
  if (attempts.length === 0) return null;
  return (
    <ul className="timeline" data-testid="call-back-attempts" aria-label="Calls back">
      {attempts
        .slice()
        .reverse()
        .map((a) => (
          <li key={a.id}>
            <div className="row">
              <strong data-testid="call-back-state">{STATE_WORDS[a.state]}</strong>
              <span>
                {a.actor} → {formatPhone(a.customer)}
              </span>
              {a.duration_seconds ? <span>{formatDuration(a.duration_seconds)}</span> : null}
              <span className="muted grow" style={{ textAlign: "right" }}>
                {formatWhen(a.created_at)}
              </span>
            </div>
            {a.detail && <p className="error-text">{a.detail}</p>}
          </li>
        ))}
    </ul>
  );
}
