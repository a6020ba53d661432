// The live queue: calls waiting, ringing or talking, and missed calls nobody
// has taken. Call events patch it row by row (stream/apply.ts).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { operations } from "../../api/schema";
import type { Call } from "../../api/types";
import { liveSharing } from "../../stream/apply";
import { usePollWhileOffline } from "../../stream/StreamProvider";

const PAGE = 1000;
/** Most rows the live queue holds; the table virtualises them. */
export const LIVE_LIMIT = 20_000;

type CallsQuery = NonNullable<operations["listCalls"]["parameters"]["query"]>;

async function allPages(query: CallsQuery, signal: AbortSignal): Promise<Call[]> {
  const out: Call[] = [];
  for (let offset = 0; offset < LIVE_LIMIT; offset += PAGE) {
    const page = await unwrap(
      client().GET("/api/calls", { params: { query: { ...query, limit: PAGE, offset } }, signal }),
    );
    out.push(...page.data);
    if (page.data.length < PAGE || out.length >= page.total) break;
  }
  return out;
}

/** Calls waiting, ringing or talking, and missed calls nobody has taken. */
export function useLiveCalls(department: string) {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: keys.liveOf(department),
    queryFn: async ({ signal }) => {
      const dept = department === "all" ? undefined : department;
      const [live, missed] = await Promise.all([
        allPages({ department: dept, status: "waiting,ringing,active" }, signal),
        allPages({ department: dept, status: "missed", view: "pending" }, signal),
      ]);
      return [...live, ...missed];
    },
    // The stream's patches keep every unchanged call as it was: comparing ten
    // thousand calls again for each patch would only cost time.
    structuralSharing: liveSharing,
    refetchInterval: poll,
  });
}
