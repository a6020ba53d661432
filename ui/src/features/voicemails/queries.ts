// The voicemail inbox: a page of voicemails for the filters, and the marks
// (played, handled) and deletion.
import { useQuery, type QueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import type { InboxView } from "../../api/types";
import { localMidnight } from "../../lib/days";

export interface InboxFilters {
  department: string;
  view: InboxView;
  /** `YYYY-MM-DD`, local days. */
  from: string;
  to: string;
  agent: string;
}

export const VIEWS: { view: InboxView; label: string }[] = [
  { view: "open", label: "Open" },
  { view: "unlistened", label: "Not played" },
  { view: "listened", label: "Played" },
  { view: "handled", label: "Handled" },
  { view: "all", label: "All" },
];

export function readInbox(p: URLSearchParams): InboxFilters {
  const view = VIEWS.find((v) => v.view === p.get("view"))?.view ?? "open";
  return {
    department: p.get("department") ?? "",
    view,
    from: p.get("from") ?? "",
    to: p.get("to") ?? "",
    agent: p.get("agent") ?? "",
  };
}

export function writeInbox(f: InboxFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (v && !(k === "view" && v === "open")) out[k] = v;
  return out;
}

export const inboxKey = ["voicemails"];

export function useInbox(f: InboxFilters) {
  return useQuery({
    queryKey: [...inboxKey, f],
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/voicemails", {
          params: {
            query: {
              department: f.department || undefined,
              view: f.view,
              from: localMidnight(f.from),
              to: localMidnight(f.to, 1),
              agent: f.agent || undefined,
              limit: 200,
            },
          },
          signal,
        }),
      ),
    refetchInterval: 15_000,
    placeholderData: (prev) => prev,
  });
}

export function markListened(id: number) {
  return unwrap(client().POST("/api/voicemails/{id}/listened", { params: { path: { id } } }));
}

export function markHandled(id: number, handled: boolean) {
  return unwrap(client().POST("/api/voicemails/{id}/handled", { params: { path: { id } }, body: { handled } }));
}

export function deleteVoicemail(id: number) {
  return unwrap(client().DELETE("/api/voicemails/{id}", { params: { path: { id } } }));
}

export function refreshInbox(qc: QueryClient): void {
  void qc.invalidateQueries({ queryKey: inboxKey });
}
