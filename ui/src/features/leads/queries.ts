// A lead (the platform's lead webhook) and the calls that name it, for the
// call drawer.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";

export function useLead(department: string, leadId: string | null) {
  return useQuery({
    queryKey: keys.lead(department, leadId ?? ""),
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/leads/{department}/{lead_id}", {
          params: { path: { department, lead_id: leadId ?? "" } },
          signal,
        }),
      ),
    enabled: leadId !== null,
  });
}
