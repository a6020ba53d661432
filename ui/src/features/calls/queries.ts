// One call: its detail (the drawer) and the writes on it (assign, unassign,
// disposition) that the live queue, the worklist and the replica outbox share.
import { useQuery, type QueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { AssignRequest, NewDisposition } from "../../api/types";

export function useCallDetail(department: string, callId: string | null) {
  return useQuery({
    queryKey: keys.call(department, callId),
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/calls/{call_id}", {
          params: { path: { call_id: callId ?? "" }, query: { department } },
          signal,
        }),
      ),
    enabled: callId !== null,
  });
}

/** A call by its id; `department` only matters when two departments share the id. */
const at = (callId: string, department?: string) => ({ path: { call_id: callId }, query: { department } });

/** Assigns the call to `body.user_id`, or to the signed-in person (`{}`). */
export function assignCall(callId: string, department: string | undefined, body: AssignRequest = {}) {
  return unwrap(client().POST("/api/calls/{call_id}/assign", { params: at(callId, department), body }));
}

export function unassignCall(callId: string, department: string | undefined) {
  return unwrap(client().POST("/api/calls/{call_id}/unassign", { params: at(callId, department) }));
}

/** Saves a disposition. A replica that cannot reach the receiver answers 202
 * with a `QueuedWrite` instead (see `isQueued` in features/replica). */
export function disposeCall(callId: string, department: string | undefined, body: NewDisposition) {
  return unwrap(client().POST("/api/calls/{call_id}/disposition", { params: at(callId, department), body }));
}

/** What a write on a call changes on other screens. */
export function refreshAfterCallWrite(qc: QueryClient, department?: string, callId?: string): void {
  void qc.invalidateQueries({ queryKey: department && callId ? keys.call(department, callId) : keys.calls });
  void qc.invalidateQueries({ queryKey: keys.worklist });
  void qc.invalidateQueries({ queryKey: keys.stats });
}
