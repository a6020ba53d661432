import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { Call, Lead } from "../../api/types";
import { LeadSection } from "./LeadSection";

const lead: Lead = {
  id: 3,
  department: "sales",
  lead_id: "5521",
  first_name: "Grace",
  last_name: "Hopper",
  raw: {},
  received_at: "2026-01-01T10:00:00Z",
  updated_at: "2026-01-01T10:00:00Z",
  version: 1,
};

let asked: string[] = [];

beforeEach(() => {
  asked = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (req: Request) => {
      asked.push(new URL(req.url).pathname);
      return new Response(JSON.stringify({ ...lead, calls: [] }), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function show(l: Lead) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <LeadSection call={{ call_id: "c-again" } as Call} lead={l} />
    </QueryClientProvider>,
  );
}

describe("LeadSection", () => {
  it("shows an archived lead from the call, without asking for it", async () => {
    show({ ...lead, archived_at: "2026-02-10T02:00:00Z" });
    expect(screen.getByRole("heading", { name: "Lead · Grace Hopper" })).toBeTruthy();
    expect(screen.getByText("Archived")).toBeTruthy();
    expect(screen.getByText("Archived by retention with its earlier calls.")).toBeTruthy();
    await new Promise((r) => setTimeout(r, 50));
    expect(asked).toEqual([]);
  });

  it("asks for a live lead's other calls", async () => {
    show(lead);
    await screen.findByText("None.");
    expect(asked).toEqual(["/api/leads/sales/5521"]);
    expect(screen.queryByText("Archived")).toBeNull();
  });
});
