// The console's users (admins manage them; the worklist assigns calls to
// them). `user.changed` refreshes the list (stream/apply.ts).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";

export function useUsers(enabled = true) {
  return useQuery({
    queryKey: keys.users,
    queryFn: ({ signal }) => unwrap(client().GET("/api/users", { signal })),
    enabled,
  });
}
