// Reads of the call history: a page of calls with the page's repeat
// callers, and one caller's other calls (the drawer).
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import type { HistoryQuery } from "./filters";

export const HISTORY_PAGE = 100;

export function useHistory(q: HistoryQuery) {
  return useInfiniteQuery({
    queryKey: ["history", q],
    queryFn: ({ signal, pageParam }) =>
      unwrap(
        client().GET("/api/calls", {
          params: { query: { ...q, sort: "-created_at", repeat: true, limit: HISTORY_PAGE, offset: pageParam } },
          signal,
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) =>
      last.offset + last.data.length < last.total ? last.offset + last.data.length : undefined,
    placeholderData: (prev) => prev,
  });
}

/** Shown in the drawer: the newest calls from `number` (the call itself included). */
export const PREVIOUS_LIMIT = 11;

export function useCallsFrom(number: string | null | undefined) {
  return useQuery({
    queryKey: ["history", "from", number],
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/calls", {
          params: { query: { number: number ?? "", sort: "-created_at", limit: PREVIOUS_LIMIT } },
          signal,
        }),
      ),
    enabled: !!number,
  });
}
