// Names for the generated OpenAPI shapes: every type the console uses comes
// from the server's document (src/api/schema.d.ts, `npm run gen:api`).
import type { components } from "./schema";

type S = components["schemas"];
export type Call = S["Call"];
export type CallDetail = S["CallDetail"];
export type CallList = S["CallList"];
export type Category = S["Category"];
export type NewCategory = S["NewCategory"];
export type CategoryPatch = S["CategoryPatch"];
export type Disposition = S["Disposition"];
export type NewDisposition = S["NewDisposition"];
export type AssignRequest = S["AssignRequest"];
export type DispositionSaved = S["DispositionSaved"];
export type Outcome = S["Outcome"];
export type Provider = S["ProviderView"];
export type ProviderCreated = S["ProviderCreated"];
export type NewProvider = S["NewProvider"];
export type ProviderPatch = S["ProviderPatch"];
export type RotateResponse = S["RotateResponse"];
export type PreviewResponse = S["PreviewResponse"];
export type RawEvent = S["RawEvent"];
export type Lead = S["Lead"];
export type LeadDetail = S["LeadDetail"];
export type ReplayReport = S["ReplayReport"];
export type Stats = S["Stats"];
export type Status = S["Status"];
export type User = S["User"];
export type NewUser = S["NewUser"];
export type UserPatch = S["UserPatch"];
export type Role = S["Role"];
export type Me = S["Me"];
export type LoginResponse = S["LoginResponse"];
export type WorkState = S["WorkState"];
export type ErrorBody = S["ErrorBody"];
export type Preset = S["Preset"];
export type PresetTemplate = S["PresetTemplate"];
export type Voicemail = S["Voicemail"];
export type MetricsReport = S["MetricsReport"];
export type Metrics = S["Metrics"];
export type Bucket = S["Bucket"];
export type DepartmentMetrics = S["DepartmentMetrics"];
export type AgentMetricsReport = S["AgentMetricsReport"];
export type AgentMetrics = S["AgentMetrics"];
export type AgentCalls = S["AgentCalls"];

export const STATUSES: readonly Status[] = ["waiting", "ringing", "active", "missed", "hangup", "completed", "failed"];
export const LIVE_STATUSES: readonly Status[] = ["waiting", "ringing", "active", "missed"];
export const WORK_STATES: readonly WorkState[] = ["pending", "assigned", "attempted", "resolved"];
export const OUTCOMES: readonly Outcome[] = [
  "resolved",
  "callback",
  "no_answer",
  "busy",
  "voicemail",
  "wrong_number",
  "do_not_call",
];
export type ReplicaStatus = S["ReplicaStatus"];
export type OutboxEntry = S["OutboxEntry"];
export type QueuedWrite = S["QueuedWrite"];

export type BusinessHoursConfig = S["BusinessHoursConfig"];
export type Routing = S["Routing"];
export type Strategy = S["Strategy"];
export type AgentStatus = S["AgentStatus"];
export type AgentState = S["AgentState"];
export type AuditEntry = S["AuditEntry"];
export type AuditList = S["AuditList"];

export const AGENT_STATES: readonly AgentState[] = ["available", "busy", "away", "offline"];
export const STRATEGIES: readonly { value: Strategy; label: string }[] = [
  { value: "none", label: "None (agents take calls themselves)" },
  { value: "round_robin", label: "Round robin" },
  { value: "least_busy", label: "Least busy (fewest open assignments)" },
  { value: "longest_idle", label: "Longest idle" },
  { value: "skills", label: "Skills-based" },
  { value: "random", label: "Random" },
];
export type DialerView = S["DialerView"];
export type DialerSpec = S["DialerSpec"];
export type DialerInput = S["DialerInput"];
export type CallbackAttempt = S["Attempt"];
export type AttemptState = S["AttemptState"];
export type SmsSettings = S["SmsSettings"];
export type SmsMessage = S["SmsMessage"];
export type InboxView = S["InboxView"];
