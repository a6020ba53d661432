// Every request the IVR flow screens make, in one file (issue 14's contract):
// flows, their versions, validation, publishing, the simulator, analytics,
// and a provider's flow and dialect.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { components } from "../../api/schema";
import type { FlowNode } from "./model";

type S = components["schemas"];

/** A flow's id: a number from the API, a string from the page's address. */
export type FlowId = number | string;
export type FlowVersion = S["FlowVersion"];
/** One problem of a draft (`node` null: the flow as a whole). */
export type ValidationError = S["FlowError"];
/** A flow as `GET /api/flows/{id}` returns it: the draft, its newest version and its problems.
 * The document types the nodes as objects (`{"id","type",…}`); the editor reads them as `FlowNode`s. */
export type Flow = Omit<S["Flow"], "nodes"> & { nodes: FlowNode[] };
export type SimulateRequest = S["SimulateInput"];
export type SimResult = S["Simulation"];
export type SimStep = S["SimStep"];
export type SimVisit = S["Visit"];
export type NodeStats = S["NodeStats"];
export type FlowAnalytics = S["FlowAnalytics"];
export type Dialect = S["Dialect"];

export const DIALECTS: readonly { value: Dialect; label: string }[] = [
  { value: "exotel", label: "Exotel (ExoML)" },
  { value: "twilio", label: "Twilio (TwiML)" },
  { value: "kookoo", label: "Ozonetel KooKoo" },
  { value: "vonage", label: "Vonage (NCCO)" },
  { value: "plivo", label: "Plivo XML" },
  { value: "json", label: "Generic JSON" },
];

/** What the editor saves, validates or creates (`FlowInput`). */
export interface FlowBody {
  name: string;
  entry: string;
  nodes: FlowNode[];
}

/** A flow from the API, its nodes read as the editor's `FlowNode`s. */
function asFlow(f: S["Flow"]): Flow {
  return { ...f, nodes: f.nodes as FlowNode[] };
}

function published(p: S["Published"]): { version: number; flow: Flow } {
  return { version: p.version, flow: asFlow(p.flow) };
}

/** The path parameter of a flow route. */
const at = (id: FlowId) => ({ path: { id: Number(id) } });

export const flowKeys = {
  all: keys.flows,
  one: (id: FlowId) => [...keys.flows, String(id)] as const,
  analytics: (id: FlowId, range: unknown) => [...keys.flows, String(id), "analytics", range] as const,
  versions: (id: FlowId) => [...keys.flows, String(id), "versions"] as const,
};

export function useFlows(enabled = true) {
  return useQuery({
    queryKey: flowKeys.all,
    queryFn: ({ signal }) => unwrap(client().GET("/api/flows", { signal })).then((r) => r.data.map(asFlow)),
    enabled,
  });
}

export function useFlow(id: FlowId) {
  return useQuery({
    queryKey: flowKeys.one(id),
    queryFn: ({ signal }) => unwrap(client().GET("/api/flows/{id}", { params: at(id), signal })).then(asFlow),
  });
}

export const flowsApi = {
  create: (body: FlowBody) => unwrap(client().POST("/api/flows", { body: { ...body } })).then(asFlow),
  /** The shipped "Customer support" flow, as a draft (its queues: the first two providers). */
  fromTemplate: (name?: string) =>
    unwrap(client().POST("/api/flows/template", { body: name ? { name } : {} })).then(asFlow),
  save: (id: FlowId, body: FlowBody) =>
    unwrap(client().PUT("/api/flows/{id}", { params: at(id), body: { ...body } })).then(asFlow),
  remove: (id: FlowId) => unwrap(client().DELETE("/api/flows/{id}", { params: at(id) })),
  duplicate: (id: FlowId) => unwrap(client().POST("/api/flows/{id}/duplicate", { params: at(id) })).then(asFlow),
  /** Checks `body` (unsaved edits) without saving it. */
  validate: (id: FlowId, body: FlowBody) =>
    unwrap(client().POST("/api/flows/{id}/validate", { params: at(id), body: { ...body } })),
  publish: (id: FlowId) => unwrap(client().POST("/api/flows/{id}/publish", { params: at(id) })).then(published),
  /** Publishes `version` again as the newest. */
  rollback: (id: FlowId, version: number) =>
    unwrap(client().POST("/api/flows/{id}/rollback", { params: at(id), body: { version } })).then(published),
  versions: (id: FlowId, signal?: AbortSignal) =>
    unwrap(client().GET("/api/flows/{id}/versions", { params: at(id), signal })),
  simulate: (id: FlowId, req: SimulateRequest) =>
    unwrap(client().POST("/api/flows/{id}/simulate", { params: at(id), body: req })),
  analytics: (id: FlowId, q: { from?: string; to?: string }, signal?: AbortSignal) =>
    unwrap(client().GET("/api/flows/{id}/analytics", { params: { ...at(id), query: q }, signal })),
  setProviderFlow: (slug: string, body: { flow_id: number | null; ivr_dialect: Dialect | null }) =>
    unwrap(client().PATCH("/api/providers/{slug}", { params: { path: { slug } }, body })),
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
