import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import type { components } from "../../api/schema";
import { RunRow } from "./RetentionPage";

type Run = components["schemas"]["RetentionRun"];

const run: Run = {
  id: 7,
  trigger: "schedule",
  actor: "callboard",
  mode: "archive",
  calls_days: 30,
  raw_days: 7,
  started_at: "2026-03-01T02:00:00Z",
  finished_at: "2026-03-01T02:00:04Z",
  calls_archived: 120,
  calls_deleted: 0,
  leads_archived: 9,
  leads_deleted: 0,
  raw_events_deleted: 300,
  batches: 5,
  error: null,
};

afterEach(cleanup);

describe("RunRow", () => {
  it("shows the leads a run took beside its calls and raw deliveries", () => {
    render(
      <table>
        <tbody>
          <RunRow run={run} />
        </tbody>
      </table>,
    );
    const cells = within(screen.getByRole("row"))
      .getAllByRole("cell")
      .filter((c) => c.classList.contains("num"))
      .map((c) => c.textContent);
    // Calls archived, calls deleted, leads archived, leads deleted, raw deleted.
    expect(cells).toEqual(["120", "0", "9", "0", "300"]);
  });
});
