import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router";
import { ProviderIvrCard } from "./ProviderIvr";

beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => new Response(JSON.stringify({ data: [] }), { headers: { "content-type": "application/json" } })),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("ProviderIvrCard", () => {
  it("says what a queued caller hears in the chosen dialect", async () => {
    const user = userEvent.setup();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter>
          <ProviderIvrCard
            provider={{
              slug: "front-desk",
              preset: "exotel",
              webhook_url: "http://cb.example/webhooks/ivr/front-desk",
              flow_id: null,
            }}
          />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    // Exotel, from the preset: its tone, not the flow's music.
    const hint = screen.getByTestId("provider-ivr-music");
    expect(hint.textContent).toContain("Exotel’s own tone");
    await user.selectOptions(screen.getByLabelText("IVR dialect"), "plivo");
    expect(screen.getByTestId("provider-ivr-music").textContent).toContain("plays while the agents ring");
    await user.selectOptions(screen.getByLabelText("IVR dialect"), "twilio");
    expect(screen.getByTestId("provider-ivr-music").textContent).toContain("Twilio click-to-call dialer");
  });
});
