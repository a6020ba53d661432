// Today's counters per department (`GET /api/stats`): the dashboard, the
// sidebar's badges and the queue headers read them; call events refetch them.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import { usePollWhileOffline } from "../../stream/StreamProvider";

export function useStats() {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: keys.stats,
    queryFn: ({ signal }) => unwrap(client().GET("/api/stats", { signal })),
    refetchInterval: poll,
  });
}
