import { describe, expect, it } from "vitest";
import { archiveSummary, type ArchiveTotals } from "./archive";

const totals = (over: Partial<ArchiveTotals>): ArchiveTotals => ({
  calls_live: 1234,
  calls_archived: 0,
  oldest_archived_call: null,
  newest_archived_call: null,
  dispositions_archived: 0,
  leads_live: 1,
  leads_archived: 0,
  ...over,
});

describe("archiveSummary", () => {
  it("says what is on the screens and that nothing is archived yet", () => {
    expect(archiveSummary(totals({}))).toEqual({
      live: "1,234 calls and 1 lead on the screens",
      archived: "Nothing archived yet.",
    });
  });

  it("gives the archive's count, reach and dispositions", () => {
    const s = archiveSummary(
      totals({
        calls_archived: 1205,
        oldest_archived_call: "2026-01-05T10:00:00.000Z",
        newest_archived_call: "2026-03-01T10:00:00.000Z",
        dispositions_archived: 1,
        leads_archived: 2,
      }),
    );
    expect(s.archived).toMatch(
      /^1,205 calls archived, created .*2026 to .*2026 with 1 disposition; 2 leads archived\.$/,
    );
  });
});
