// Remote mode: when the console is served by a replica, its status and its
// outbox of writes made while the receiver was unreachable. On a receiver
// these routes answer 404 and the console shows nothing extra.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { AssignRequest, NewDisposition, OutboxEntry, QueuedWrite } from "../../api/types";
import { assignCall, disposeCall, unassignCall } from "../calls/queries";

async function orNull<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** The replica's status, or null when the server is the receiver itself. */
export function useReplicaStatus() {
  return useQuery({
    queryKey: [...keys.replica, "status"],
    queryFn: ({ signal }) => orNull(unwrap(client().GET("/api/replica/status", { signal }))),
    refetchInterval: (q) => (q.state.data === null ? false : 3000),
    retry: false,
  });
}

/** "Retry now": the replica tries its receiver at once instead of waiting
 * out its backoff; the status is read again right after. */
export function useRetryNow() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(client().POST("/api/replica/reconnect")),
    onSettled: () => qc.invalidateQueries({ queryKey: [...keys.replica, "status"] }),
  });
}

/** Whole seconds until the replica's next attempt, counted down from when
 * the status was read (`fetchedAt`, ms) to `now`; null when not waiting. */
export function secondsUntilRetry(retryInMs: number | null | undefined, fetchedAt: number, now: number): number | null {
  if (retryInMs === null || retryInMs === undefined) return null;
  return Math.max(0, Math.ceil((fetchedAt + retryInMs - now) / 1000));
}

export function useOutbox(enabled: boolean) {
  return useQuery({
    queryKey: [...keys.replica, "outbox"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/replica/outbox", { signal })),
    enabled,
    refetchInterval: enabled ? 3000 : false,
  });
}

/** A write answered 202 by a replica: queued until the receiver is back. */
export function isQueued(v: unknown): v is QueuedWrite {
  return typeof v === "object" && v !== null && (v as { queued?: unknown }).queued === true;
}

/** The writes a person may re-apply: a call's assignment, unassignment or disposition. */
const CALL_WRITE = /^\/api\/calls\/([^/]+)\/(assign|unassign|disposition)$/;

/** Sends a refused call write again through the typed client. `body` is the
 * one the console sent the first time (the replica stored it as JSON). */
export async function resend(e: OutboxEntry, body: Record<string, unknown>): Promise<unknown> {
  const [path = e.path, query] = e.path.split("?");
  const m = CALL_WRITE.exec(path);
  if (!m?.[1]) throw new Error("Only changes to a call can be re-applied; discard this one and make it again.");
  const callId = decodeURIComponent(m[1]);
  const department = new URLSearchParams(query ?? "").get("department") ?? undefined;
  switch (m[2]) {
    case "assign":
      return assignCall(callId, department, body as AssignRequest);
    case "unassign":
      return unassignCall(callId, department);
    default:
      return disposeCall(callId, department, body as NewDisposition);
  }
}

/** Drops a queued or refused write from the replica's outbox. */
export function discardWrite(e: OutboxEntry) {
  return unwrap(client().DELETE("/api/replica/outbox/{id}", { params: { path: { id: e.id } } }));
}
