// Where alerts go, as the editor holds them: channel rows and the SMTP form,
// and their conversion to the API's shape with a message per bad field.
import type { Channel, ChannelKind, SmtpSecurity, ThresholdConfig } from "./model";
import type { SmtpWrite } from "./queries";

export const CHANNEL_KINDS: readonly { kind: ChannelKind; label: string; placeholder: string }[] = [
  { kind: "slack", label: "Slack", placeholder: "https://hooks.slack.com/services/…" },
  { kind: "teams", label: "Microsoft Teams", placeholder: "https://….webhook.office.com/…" },
  { kind: "webhook", label: "Webhook (JSON POST)", placeholder: "https://example.com/alerts" },
  { kind: "email", label: "E-mail", placeholder: "oncall@example.com" },
];

export interface ChannelDraft {
  kind: ChannelKind;
  target: string;
  /** Empty: every department. */
  departments: string[];
}

export interface SmtpDraft {
  enabled: boolean;
  host: string;
  port: string;
  security: SmtpSecurity;
  from: string;
  username: string;
  /** Typed here only; blank keeps the stored one. */
  password: string;
  forgetPassword: boolean;
  hasPassword: boolean;
}

export function toChannelDrafts(cfg: ThresholdConfig | undefined): ChannelDraft[] {
  return (cfg?.channels ?? []).map((c) => ({ kind: c.kind, target: c.target, departments: c.departments ?? [] }));
}

export function toSmtpDraft(cfg: ThresholdConfig | undefined): SmtpDraft {
  const s = cfg?.smtp;
  return {
    enabled: !!s,
    host: s?.host ?? "",
    port: s ? String(s.port) : "587",
    security: s?.security ?? "starttls",
    from: s?.from ?? "",
    username: s?.username ?? "",
    password: "",
    forgetPassword: false,
    hasPassword: s?.has_password ?? false,
  };
}

const URL_RE = /^https?:\/\/\S+$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function channelError(c: ChannelDraft): string | undefined {
  const t = c.target.trim();
  if (!t) return "Give where to send.";
  if (c.kind === "email") return EMAIL_RE.test(t) ? undefined : "An e-mail address, e.g. oncall@example.com.";
  return URL_RE.test(t) ? undefined : "An http(s) URL.";
}

export type SmtpErrors = Partial<Record<"host" | "port" | "from", string>>;

export function smtpErrors(s: SmtpDraft): SmtpErrors {
  if (!s.enabled) return {};
  const e: SmtpErrors = {};
  if (!s.host.trim()) e.host = "Give the mail server.";
  const port = Number(s.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) e.port = "A port, 1–65535.";
  if (!EMAIL_RE.test(s.from.trim())) e.from = "The sender's e-mail address.";
  return e;
}

/** The channels and SMTP settings to send, or the first problem in words. */
export function buildChannels(
  channels: readonly ChannelDraft[],
  smtp: SmtpDraft,
): { channels: Channel[]; smtp: SmtpWrite | null; error?: string } {
  const out: Channel[] = [];
  for (const [i, c] of channels.entries()) {
    const err = channelError(c);
    if (err) return { channels: [], smtp: null, error: `Channel ${i + 1}: ${err}` };
    out.push({ kind: c.kind, target: c.target.trim(), departments: c.departments.length ? c.departments : null });
  }
  if (out.some((c) => c.kind === "email") && !smtp.enabled)
    return { channels: [], smtp: null, error: "An e-mail channel needs the SMTP settings below." };
  if (Object.keys(smtpErrors(smtp)).length) return { channels: [], smtp: null, error: "Check the SMTP settings." };
  if (!smtp.enabled) return { channels: out, smtp: null };
  const w: SmtpWrite = {
    host: smtp.host.trim(),
    port: Number(smtp.port),
    security: smtp.security,
    from: smtp.from.trim(),
    username: smtp.username.trim() || null,
  };
  if (smtp.forgetPassword) w.password = "";
  else if (smtp.password) w.password = smtp.password;
  return { channels: out, smtp: w };
}
