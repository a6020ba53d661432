// Remote mode: when the console is served by a replica, its status and its
// outbox of writes made while the receiver was unreachable. On a receiver
// these routes answer 404 and the console shows nothing extra.
import { useQuery } from "@tanstack/react-query";
import { ApiError, client, unwrap } from "./client";
import type { QueuedWrite } from "./types";

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
    queryKey: ["replica", "status"],
    queryFn: ({ signal }) => orNull(unwrap(client().GET("/api/replica/status", { signal }))),
    refetchInterval: (q) => (q.state.data === null ? false : 3000),
    retry: false,
  });
}

export function useOutbox(enabled: boolean) {
  return useQuery({
    queryKey: ["replica", "outbox"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/replica/outbox", { signal })),
    enabled,
    refetchInterval: enabled ? 3000 : false,
  });
}

/** A write answered 202 by a replica: queued until the receiver is back. */
export function isQueued(v: unknown): v is QueuedWrite {
  return typeof v === "object" && v !== null && (v as { queued?: unknown }).queued === true;
}
