// The server's CSV of calls (`GET /api/calls/export.csv`), with the same
// filters as the list a screen shows; read as a blob, named by the server.
import { client, settle } from "../../api/client";
import type { operations } from "../../api/schema";
import { download } from "../../lib/download";

export type ExportQuery = NonNullable<operations["exportCallsCsv"]["parameters"]["query"]>;

/** Downloads the calls `query` selects (with a BOM, for spreadsheets). */
export async function downloadCallsCsv(query: ExportQuery): Promise<void> {
  const { data, response } = await settle(
    client().GET("/api/calls/export.csv", {
      params: { query: { bom: true, ...query } },
      headers: { accept: "text/csv" },
      parseAs: "blob",
    }),
  );
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? "calls.csv";
  download(data, name);
}
