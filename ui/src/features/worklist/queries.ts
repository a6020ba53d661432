// The worklist (missed and hung-up calls to work through), a page at a time;
// call events refetch it (stream/apply.ts).
import { useInfiniteQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { WorkState } from "../../api/types";
import { usePollWhileOffline } from "../../stream/StreamProvider";

export interface WorklistQuery {
  department: string;
  view: WorkState;
  q: string;
  sort: string;
}

/** Rows per worklist page; more pages load on demand ("Show more"). */
export const WORKLIST_PAGE = 500;

export function useWorklist(w: WorklistQuery) {
  const poll = usePollWhileOffline();
  return useInfiniteQuery({
    queryKey: [...keys.worklist, w],
    queryFn: ({ signal, pageParam }) =>
      unwrap(
        client().GET("/api/calls", {
          params: {
            query: {
              department: w.department === "all" ? undefined : w.department,
              status: "worklist",
              view: w.view,
              q: w.q || undefined,
              sort: w.sort,
              limit: WORKLIST_PAGE,
              offset: pageParam,
            },
          },
          signal,
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) =>
      last.offset + last.data.length < last.total ? last.offset + last.data.length : undefined,
    refetchInterval: poll,
    placeholderData: (prev) => prev,
  });
}
