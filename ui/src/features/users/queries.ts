// The console's users (admins manage them; the worklist assigns calls to
// them). `user.changed` refreshes the list (stream/apply.ts).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { NewUser, UserPatch } from "../../api/types";

export function useUsers(enabled = true) {
  return useQuery({
    queryKey: keys.users,
    queryFn: ({ signal }) => unwrap(client().GET("/api/users", { signal })),
    enabled,
  });
}

export function createUser(body: NewUser) {
  return unwrap(client().POST("/api/users", { body }));
}

export function updateUser(id: number, patch: UserPatch) {
  return unwrap(client().PATCH("/api/users/{id}", { params: { path: { id } }, body: patch }));
}

/** Deactivates (the user's sessions end) or reactivates a user. */
export function setUserActive(id: number, active: boolean) {
  return active
    ? updateUser(id, { active: true })
    : unwrap(client().DELETE("/api/users/{id}", { params: { path: { id } } }));
}
