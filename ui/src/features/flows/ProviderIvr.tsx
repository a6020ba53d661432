// Two small pieces the flows bring to other screens: the provider form's
// "IVR flow" card (which published flow answers this department's calls, in
// which dialect, and the URL to paste into the platform), and the call
// drawer's "IVR path" (the nodes the caller went through and why they left).
import { useState } from "react";
import { Link } from "react-router";
import type { Provider } from "../../api/types";
import { CopyButton } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { DIALECTS, flowsApi, useFlowMutation, useFlows, type Dialect } from "./api";
import { infoOf } from "./model";
import "./flows.css";

/** The provider fields the IVR card reads; without `ivr_url` the URL is `/ivr/{slug}` beside the webhook. */
export type ProviderIvrFields = Pick<Provider, "slug" | "preset" | "webhook_url" | "flow_id" | "ivr_dialect"> &
  Partial<Pick<Provider, "ivr_url">>;

const PRESET_DIALECT: Record<string, Dialect> = {
  exotel: "exotel",
  twilio: "twilio",
  ozonetel: "kookoo",
  kookoo: "kookoo",
  vonage: "vonage",
  plivo: "plivo",
};

/** What a caller waiting in a queue with hold music hears, per dialect (docs/IVR.md). */
export const HOLD_MUSIC: Record<Dialect, string> = {
  exotel: "Queues ring with Exotel’s own tone: ExoML’s dial plays no audio file, so a queue’s hold music is not heard.",
  twilio:
    "A queue’s hold music plays when this department has a Twilio click-to-call dialer (the caller waits in a Twilio queue); otherwise callers hear ringing.",
  kookoo: "Queues with hold music ring with KooKoo’s own music on hold, not the flow’s file.",
  vonage: "A queue’s hold music streams while the agents ring.",
  plivo: "A queue’s hold music plays while the agents ring.",
  json: "The answer’s dial action names the queue’s hold music (music_url): your platform plays it.",
};

export function defaultDialect(preset: string | null | undefined): Dialect {
  return (preset && PRESET_DIALECT[preset]) || "json";
}

/** The platform-facing IVR URL: the server's when it says it, else `/ivr/{slug}` beside the webhook. */
export function ivrUrlOf(p: ProviderIvrFields): string {
  if (p.ivr_url) return p.ivr_url;
  const i = p.webhook_url.indexOf("/webhooks/ivr/");
  const origin = i >= 0 ? p.webhook_url.slice(0, i) : "";
  return `${origin}/ivr/${encodeURIComponent(p.slug)}`;
}

export function ProviderIvrCard({ provider }: { provider: ProviderIvrFields }) {
  const flows = useFlows();
  const [flowId, setFlowId] = useState<string>(provider.flow_id == null ? "" : String(provider.flow_id));
  const [dialect, setDialect] = useState<Dialect>(
    (DIALECTS.find((d) => d.value === provider.ivr_dialect)?.value ?? defaultDialect(provider.preset)) as Dialect,
  );
  const [saved, setSaved] = useState(false);
  const save = useFlowMutation(() => {
    const chosen = (flows.data ?? []).find((f) => String(f.id) === flowId);
    return flowsApi.setProviderFlow(provider.slug, { flow_id: chosen ? chosen.id : null, ivr_dialect: dialect });
  });
  const list = (flows.data ?? []).slice().sort((a, b) => a.name.localeCompare(b.name));
  const chosen = list.find((f) => String(f.id) === flowId);
  const url = ivrUrlOf(provider);
  return (
    <section className="card stack" aria-labelledby="ivr-flow-h" data-testid="provider-ivr">
      <h3 id="ivr-flow-h">IVR flow</h3>
      <p className="muted small">
        Callboard answers this platform’s IVR requests with a published flow. Design flows in{" "}
        <Link to="/flows">IVR flows</Link>.
      </p>
      <ErrorBanner error={flows.error} />
      <div className="grid2">
        <Field
          label="Flow"
          hint={
            chosen && !chosen.version ? "This flow has no published version yet: publish it first." : "None: no IVR."
          }
        >
          {(p) => (
            <select
              {...p}
              value={flowId}
              onChange={(e) => {
                setFlowId(e.target.value);
                setSaved(false);
              }}
            >
              <option value="">— none —</option>
              {list.map((f) => (
                <option key={String(f.id)} value={String(f.id)}>
                  {f.name} {f.version ? `(v${f.version})` : "(draft only)"}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="IVR dialect" hint="The platform's IVR language; from the preset unless you change it.">
          {(p) => (
            <select
              {...p}
              value={dialect}
              onChange={(e) => {
                setDialect(e.target.value as Dialect);
                setSaved(false);
              }}
            >
              {DIALECTS.map((d) => (
                <option key={d.value} value={d.value}>
                  {d.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <p className="muted small" data-testid="provider-ivr-music">
        Hold music: {HOLD_MUSIC[dialect]}
      </p>
      <div className="secret">
        <span className="label-text">IVR URL</span>
        <code data-testid="provider-ivr-url">{url}</code>
        <CopyButton text={url} label="Copy URL" />
      </div>
      <p className="muted small">
        Paste it where the platform asks for the IVR / answer URL (Exotel: a Passthru or Connect applet’s URL; Twilio:
        the number’s “A call comes in” webhook; KooKoo: the app URL; Vonage: the answer URL; Plivo: the answer URL). It
        authenticates like the webhook.
      </p>
      <ErrorBanner error={save.error} />
      {saved && (
        <p className="banner ok" role="status">
          IVR flow saved.
        </p>
      )}
      <div className="row">
        <button
          type="button"
          className="primary"
          aria-disabled={save.isPending || undefined}
          onClick={() =>
            !save.isPending &&
            save.mutate(undefined, {
              onSuccess: () => setSaved(true),
            })
          }
        >
          {save.isPending ? "Saving…" : "Save IVR flow"}
        </button>
      </div>
    </section>
  );
}

/** One node on a call's way through the IVR. */
export interface IvrVisit {
  node: string;
  type?: string;
  edge?: string | null;
  at?: string | null;
  /** What became of an `sms` node's text: a reason code (`sms_queued`, `sms_not_sent_no_dialer`, …). */
  detail?: string | null;
}

/** The call's IVR fields, read loosely (present once the receiver runs IVR flows). */
export interface CallIvrFields {
  exit_reason?: string | null;
  ivr_path?: IvrVisit[] | null;
  ivr_node?: string | null;
}

const EXIT_WORDS: Record<string, string> = {
  ivr_abandon: "Hung up in the IVR",
  queue_abandon: "Hung up while queued",
  transfer_no_answer: "Transfer not answered",
  voicemail: "Left a voicemail",
  callback_requested: "Asked to be called back",
  completed: "Completed",
};

export function IvrPath({ call: detail }: { call: object }) {
  // The receiver puts `exit_reason` and `ivr_node` on the call's metadata; a
  // later server may send them (and the whole path) as fields of their own.
  const raw = detail as CallIvrFields & { metadata?: Record<string, unknown> | null };
  const meta = raw.metadata ?? {};
  const call: CallIvrFields = {
    ivr_path: raw.ivr_path,
    exit_reason: raw.exit_reason ?? (typeof meta.exit_reason === "string" ? meta.exit_reason : null),
    ivr_node: raw.ivr_node ?? (typeof meta.ivr_node === "string" ? meta.ivr_node : null),
  };
  const path = call.ivr_path ?? [];
  if (!path.length && !call.exit_reason && !call.ivr_node) return null;
  return (
    <section className="stack" aria-labelledby="ivr-path-h" data-testid="ivr-path">
      <h3 id="ivr-path-h" style={{ margin: 0 }}>
        IVR path
      </h3>
      {path.length > 0 && (
        <ol className="ivr-path">
          {path.map((v, i) => (
            <li key={i} title={v.edge ? `left by ${v.edge}` : undefined}>
              <span aria-hidden="true">{infoOf(v.type ?? "").glyph}</span> <code>{v.node}</code>
              {v.edge && <span className="muted small"> ({v.edge})</span>}
              {v.detail && <code className="muted small"> {v.detail}</code>}
            </li>
          ))}
        </ol>
      )}
      {!path.length && call.ivr_node && !call.exit_reason && (
        <p style={{ margin: 0 }}>
          In the IVR at <code>{call.ivr_node}</code>
        </p>
      )}
      {call.exit_reason && (
        <p style={{ margin: 0 }}>
          Exit: <strong>{EXIT_WORDS[call.exit_reason] ?? call.exit_reason}</strong>{" "}
          <code className="muted">{call.exit_reason}</code>
          {call.exit_reason === "ivr_abandon" && (call.ivr_node ?? path[path.length - 1]?.node) && (
            <>
              {" "}
              at <code>{call.ivr_node ?? path[path.length - 1]?.node}</code>
            </>
          )}
        </p>
      )}
    </section>
  );
}
