// The audit log, newest first, a page at a time (`before` the oldest seen).
import { useInfiniteQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { localMidnight } from "../../lib/days";

const PAGE = 50;

/** The filters as the form holds them (dates as `YYYY-MM-DD`, local). */
export interface AuditFilters {
  actor: string;
  action: string;
  entity: string;
  from: string;
  to: string;
}

export function useAuditLog(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: ["audit", filters],
    queryFn: ({ signal, pageParam }) =>
      unwrap(
        client().GET("/api/audit", {
          params: {
            query: {
              actor: filters.actor.trim() || undefined,
              action: filters.action.trim() || undefined,
              entity: filters.entity || undefined,
              from: localMidnight(filters.from),
              to: localMidnight(filters.to, 1),
              before: pageParam ?? undefined,
              limit: PAGE,
            },
          },
          signal,
        }),
      ),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
}
