// Providers (a provider is a department): the list the sidebar, the
// department tabs and the admin screens read. `provider.changed` patches it
// in place and refetches it (stream/apply.ts).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import { usePollWhileOffline } from "../../stream/StreamProvider";

export function useProviders(includeInactive = false) {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: keys.providerList(includeInactive),
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/providers", {
          params: { query: { include_inactive: includeInactive || undefined } },
          signal,
        }),
      ),
    refetchInterval: poll,
  });
}

/** The platforms Callboard ships templates for (they never change at run time). */
export function usePresets() {
  return useQuery({
    queryKey: ["presets"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/presets", { signal })),
    staleTime: Infinity,
  });
}
