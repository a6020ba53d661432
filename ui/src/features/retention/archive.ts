// What retention archived: the totals of the live and archived tables
// (`GET /api/retention/archive`) and a period of archived calls as CSV
// (`GET /api/retention/archive/calls.csv`), read as a blob, named by the server.
import { useQuery } from "@tanstack/react-query";
import { client, settle, unwrap } from "../../api/client";
import type { components, operations } from "../../api/schema";
import { download } from "../../lib/download";

export type ArchiveTotals = components["schemas"]["ArchiveTotals"];
export type ArchiveQuery = NonNullable<operations["exportArchivedCallsCsv"]["parameters"]["query"]>;

export const archiveKey = ["retention", "archive"] as const;

export function useArchiveTotals() {
  return useQuery({
    queryKey: archiveKey,
    queryFn: ({ signal }) => unwrap(client().GET("/api/retention/archive", { signal })),
    retry: false,
  });
}

const day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** The archive in words: what is live, what is archived and how far back it reaches. */
export function archiveSummary(t: ArchiveTotals): { live: string; archived: string } {
  const live = `${count(t.calls_live, "call")} and ${count(t.leads_live, "lead")} on the screens`;
  if (t.calls_archived === 0 && t.leads_archived === 0) return { live, archived: "Nothing archived yet." };
  const reach =
    t.oldest_archived_call && t.newest_archived_call
      ? `, created ${day.format(new Date(t.oldest_archived_call))} to ${day.format(new Date(t.newest_archived_call))}`
      : "";
  const dispositions = t.dispositions_archived > 0 ? ` with ${count(t.dispositions_archived, "disposition")}` : "";
  return {
    live,
    archived: `${count(t.calls_archived, "call")} archived${reach}${dispositions}; ${count(t.leads_archived, "lead")} archived.`,
  };
}

/** Downloads the archived calls `query` selects (with a BOM, for spreadsheets). */
export async function downloadArchivedCalls(query: ArchiveQuery): Promise<void> {
  const { data, response } = await settle(
    client().GET("/api/retention/archive/calls.csv", {
      params: { query: { bom: true, ...query } },
      headers: { accept: "text/csv" },
      parseAs: "blob",
    }),
  );
  const name =
    /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? "archived-calls.csv";
  download(data, name);
}
