// Every request the IVR flow screens make, in one file (issue 14's contract):
// flows, their versions, validation, publishing, the simulator, analytics,
// and a provider's flow and dialect.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../../api/client";
import type { FlowLike, FlowNode } from "./model";

export type FlowId = number | string;

export interface FlowVersion {
  version: number;
  published_at: string;
  published_by: string;
  /** Set when this version is an older one published again (a roll back). */
  rolled_back_from?: number | null;
}

export interface ValidationError {
  node: string | null;
  code: string;
  message: string;
}

/** A flow as `GET /api/flows/{id}` returns it: the draft, its newest version and its problems. */
export interface Flow extends FlowLike {
  id: FlowId;
  name: string;
  entry: string;
  nodes: FlowNode[];
  /** The newest published version (what providers run); 0 while only a draft. */
  version: number;
  /** Whether the draft differs from the newest published version. */
  draft_changed?: boolean;
  /** The providers (department slugs) whose IVR runs this flow. */
  used_by?: string[];
  /** The draft's validation problems (empty: it may be published). */
  errors?: ValidationError[];
  created_at?: string | null;
  updated_at?: string | null;
}

export const DIALECTS = [
  { value: "exotel", label: "Exotel (ExoML)" },
  { value: "twilio", label: "Twilio (TwiML)" },
  { value: "kookoo", label: "Ozonetel KooKoo" },
  { value: "vonage", label: "Vonage (NCCO)" },
  { value: "plivo", label: "Plivo XML" },
  { value: "json", label: "Generic JSON" },
] as const;
export type Dialect = (typeof DIALECTS)[number]["value"];

export interface SimulateRequest {
  dialect: Dialect;
  caller: string;
  did: string;
  /** RFC 3339 instant the test call happens at. */
  at: string;
  /** Keys (`"1"`, `"1234#"`), or `timeout`, `hangup`, `answer`, `no_answer`, `record`. */
  inputs: string[];
}

/** One node a step went through, and the edge it left by (none: it waits there, or the call ended). */
export interface SimVisit {
  node: string;
  type: string;
  edge?: string | null;
  /** Entered in an earlier step: this row only says how the caller left it. */
  resumed?: boolean;
}

/** One request of a simulated call: the input, the nodes it went through, and exactly what the platform gets. */
export interface SimStep {
  /** The input that led here (`start` for the first). */
  input: string;
  visits: SimVisit[];
  /** The node waiting for the caller after this step. */
  node?: string | null;
  rendered: { content_type: string; body: string };
  ended: boolean;
  exit_reason?: string | null;
  problem?: string | null;
}

export interface SimResult {
  dialect: string;
  steps: SimStep[];
  vars?: Record<string, string>;
}

export interface NodeStats {
  node: string;
  type?: string;
  /** Times callers arrived at the node. */
  visits: number;
  /** Exits by edge (`options.1`, `on_timeout`, `next`, …). */
  exits: Record<string, number>;
  /** Callers who hung up at the node. */
  hangups: number;
  /** Mean seconds between arriving and leaving (nodes that wait). */
  avg_seconds?: number | null;
}

export interface FlowAnalytics {
  flow_id?: FlowId;
  /** Calls that entered the flow. */
  calls: number;
  nodes: NodeStats[];
  /** Entry → menu → queue/transfer → agent. */
  funnel: { stage: string; calls: number }[];
  exit_reasons?: Record<string, number>;
}

const path = (id: FlowId, tail = "") => `/api/flows/${encodeURIComponent(String(id))}${tail}`;

export const flowKeys = {
  all: ["flows"] as const,
  one: (id: FlowId) => ["flows", String(id)] as const,
  analytics: (id: FlowId, range: unknown) => ["flows", String(id), "analytics", range] as const,
  versions: (id: FlowId) => ["flows", String(id), "versions"] as const,
};

export function useFlows(enabled = true) {
  return useQuery({
    queryKey: flowKeys.all,
    queryFn: ({ signal }) => api.get<{ data: Flow[] } | Flow[]>("/api/flows", undefined, signal).then(listOf),
    enabled,
  });
}

function listOf(r: { data: Flow[] } | Flow[]): Flow[] {
  return Array.isArray(r) ? r : r.data;
}

export function useFlow(id: FlowId) {
  return useQuery({
    queryKey: flowKeys.one(id),
    queryFn: ({ signal }) => api.get<Flow>(path(id), undefined, signal),
  });
}

export const flowsApi = {
  create: (body: { name: string; entry: string; nodes: FlowNode[] }) => api.post<Flow>("/api/flows", body),
  /** The shipped "Customer support" flow, as a draft (its queues: the first two providers). */
  fromTemplate: (name?: string) => api.post<Flow>("/api/flows/template", name ? { name } : {}),
  save: (id: FlowId, body: { name: string; entry: string; nodes: FlowNode[] }) => api.put<Flow>(path(id), body),
  remove: (id: FlowId) => api.del<unknown>(path(id)),
  duplicate: (id: FlowId) => api.post<Flow>(path(id, "/duplicate")),
  /** Checks `body` (unsaved edits) without saving it. */
  validate: (id: FlowId, body: { name: string; entry: string; nodes: FlowNode[] }) =>
    api.post<{ errors: ValidationError[] }>(path(id, "/validate"), body),
  publish: (id: FlowId) => api.post<{ version: number; flow: Flow }>(path(id, "/publish")),
  /** Publishes `version` again as the newest. */
  rollback: (id: FlowId, version: number) =>
    api.post<{ version: number; flow: Flow }>(path(id, "/rollback"), { version }),
  versions: (id: FlowId, signal?: AbortSignal) =>
    api.get<{ data: FlowVersion[] }>(path(id, "/versions"), undefined, signal),
  simulate: (id: FlowId, req: SimulateRequest) => api.post<SimResult>(path(id, "/simulate"), req),
  analytics: (id: FlowId, q: { from?: string; to?: string }, signal?: AbortSignal) =>
    api.get<FlowAnalytics>(path(id, "/analytics"), q, signal),
  setProviderFlow: (slug: string, body: { flow_id: FlowId | null; ivr_dialect: Dialect | null }) =>
    api.patch<unknown>(`/api/providers/${encodeURIComponent(slug)}`, body),
};

/** The validation errors a refusal carries (422 `{"errors":[…]}`), else null. */
export function validationErrorsOf(e: unknown): ValidationError[] | null {
  if (!(e instanceof ApiError)) return null;
  const b = e.body as { errors?: unknown; error?: { errors?: unknown; details?: unknown } } | null;
  const list = b?.errors ?? b?.error?.errors ?? b?.error?.details;
  return Array.isArray(list) ? (list as ValidationError[]) : null;
}

/** A mutation that refreshes the flow lists (and the one flow) after it ran. */
export function useFlowMutation<A, R>(fn: (a: A) => Promise<R>, id?: FlowId) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: id === undefined ? flowKeys.all : flowKeys.one(id) });
      if (id !== undefined) void qc.invalidateQueries({ queryKey: flowKeys.all, exact: true });
    },
  });
}

export function useFlowVersions(id: FlowId, enabled = true) {
  return useQuery({
    queryKey: flowKeys.versions(id),
    queryFn: ({ signal }) => flowsApi.versions(id, signal).then((r) => r.data),
    enabled,
  });
}

export function useFlowAnalytics(id: FlowId, range: { from?: string; to?: string }) {
  return useQuery({
    queryKey: flowKeys.analytics(id, range),
    queryFn: ({ signal }) => flowsApi.analytics(id, range, signal),
  });
}
