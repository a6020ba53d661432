// Dialpad user ids ↔ Callboard users: the list and its writes.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

export type Mapping = components["schemas"]["AgentMapping"];
export type MappingInput = components["schemas"]["MappingInput"];

export const dialpadKeys = { all: ["dialpad-users"] } as const;

export function useDialpadUsers() {
  return useQuery({
    queryKey: dialpadKeys.all,
    queryFn: ({ signal }) => unwrap(client().GET("/api/dialpad/users", { signal })),
  });
}

/** Maps Dialpad user `externalId` to the Callboard user `userId`, with the
 * CRM's own id for them when given (omitted: the mapping keeps its own). */
export function putDialpadUser(externalId: string, userId: number, crmId?: string) {
  return unwrap(
    client().PUT("/api/dialpad/users/{dialpad_user_id}", {
      params: { path: { dialpad_user_id: externalId } },
      body: crmId ? { user_id: userId, crm_id: crmId } : { user_id: userId },
    }),
  );
}

export function deleteDialpadUser(externalId: string) {
  return unwrap(
    client().DELETE("/api/dialpad/users/{dialpad_user_id}", { params: { path: { dialpad_user_id: externalId } } }),
  );
}

/** Upserts `items`; with `replace`, removes the mappings they do not list. */
export function bulkPutDialpadUsers(items: MappingInput[], replace: boolean) {
  return unwrap(client().POST("/api/dialpad/users/bulk", { body: { items, replace } }));
}
