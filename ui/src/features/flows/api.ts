// Every request the IVR flow screens make, in one file (issue 14's contract):
// flows, their versions, validation, publishing, the simulator, analytics,
// and a provider's flow and dialect.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../../api/client";
import type { FlowLike, FlowNode } from "./model";

export type FlowId = number | string;

export interface FlowVersion {
  version: number;
  published_at?: string | null;
  published_by?: string | null;
}

/** A flow as `GET /api/flows/{id}` returns it: the draft, and its versions. */
export interface Flow extends FlowLike {
  id: FlowId;
  name: string;
  entry: string;
  nodes: FlowNode[];
  /** The latest published version; 0 while only a draft. */
  version: number;
  versions?: FlowVersion[];
  /** The version providers get, when an older one was rolled back to. */
  live_version?: number | null;
  published_version?: number | null;
  /** Whether the draft differs from the latest published version. */
  draft_changed?: boolean;
  updated_at?: string | null;
  created_at?: string | null;
  /** The providers whose IVR runs this flow. */
  providers?: string[];
}

export interface ValidationError {
  node: string | null;
  code: string;
  message: string;
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
  inputs: string[];
}

/** One step of a simulated call: the node it reached and what the platform gets. */
export interface SimStep {
  node: string;
  type?: string;
  /** The input that led here (a digit string, "timeout", …). */
  input?: string | null;
  /** The instruction the dialect answers, exactly as sent (XML or JSON text). */
  response?: string;
  content_type?: string;
  variables?: Record<string, unknown>;
  note?: string | null;
  [k: string]: unknown;
}

export interface SimResult {
  steps: SimStep[];
  /** Whether the call waits for input at the last step. */
  awaiting_input?: boolean;
  ended?: boolean;
  exit_reason?: string | null;
  [k: string]: unknown;
}

export interface NodeStats {
  node: string;
  type?: string;
  visits: number;
  hangups: number;
  /** Seconds callers spent at the node, all visits together. */
  total_seconds?: number;
  avg_seconds?: number;
  exits: { edge: string; target?: string | null; count: number }[];
}

export interface FlowAnalytics {
  from?: string;
  to?: string;
  calls?: number;
  nodes: NodeStats[];
  funnel: { stage: string; label?: string; calls: number }[];
  exit_reasons?: Record<string, number>;
}

const path = (id: FlowId, tail = "") => `/api/flows/${encodeURIComponent(String(id))}${tail}`;

export const flowKeys = {
  all: ["flows"] as const,
  one: (id: FlowId) => ["flows", String(id)] as const,
  analytics: (id: FlowId, range: unknown) => ["flows", String(id), "analytics", range] as const,
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
  fromTemplate: (name?: string) =>
    api.post<Flow>(
      "/api/flows/template",
      name ? { template: "customer_support", name } : { template: "customer_support" },
    ),
  save: (id: FlowId, body: { name: string; entry: string; nodes: FlowNode[] }) => api.put<Flow>(path(id), body),
  remove: (id: FlowId) => api.del<unknown>(path(id)),
  duplicate: (id: FlowId, name?: string) => api.post<Flow>(path(id, "/duplicate"), name ? { name } : {}),
  validate: (id: FlowId) => api.post<{ errors: ValidationError[] }>(path(id, "/validate")),
  publish: (id: FlowId) => api.post<{ version: number }>(path(id, "/publish")),
  rollback: (id: FlowId, version: number) => api.post<Flow>(path(id, "/rollback"), { version }),
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

export function useFlowAnalytics(id: FlowId, range: { from?: string; to?: string }) {
  return useQuery({
    queryKey: flowKeys.analytics(id, range),
    queryFn: ({ signal }) => flowsApi.analytics(id, range, signal),
  });
}
