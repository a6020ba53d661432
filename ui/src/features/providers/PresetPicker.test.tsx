import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { PresetPicker } from "./PresetPicker";

const preset = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  notes: `${name} notes`,
  auth: { scheme: "query_token" },
  body_format: "json",
  route: "webhook",
  secret: "api_key",
  field_mapping: {},
  status_map: {},
  ...extra,
});

beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(async () =>
      Promise.resolve(
        new Response(
          JSON.stringify({
            data: [
              preset("exotel", "Exotel"),
              preset("knowlarity", "Knowlarity", { unverified: "No recorded Knowlarity delivery was found." }),
              preset("3cx", "3CX", {
                template: { file_name: "callboard-3cx.xml", media_type: "application/xml", text: "<Crm/>" },
              }),
            ],
          }),
          { status: 200, headers: { "content-type": "application/json" } },
        ),
      ),
    ),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("PresetPicker", () => {
  it("warns about a preset built without a recorded delivery and offers a platform's file", async () => {
    const user = userEvent.setup();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <PresetPicker onCancel={() => {}} onCreated={() => {}} />
      </QueryClientProvider>,
    );
    await user.click(await screen.findByLabelText("Exotel"));
    expect(screen.getByTestId("preset-notes").textContent).toBe("Exotel notes");
    expect(screen.queryByTestId("preset-unverified")).toBeNull();
    expect(screen.queryByTestId("preset-template")).toBeNull();
    await user.click(screen.getByLabelText("Knowlarity"));
    expect(screen.getByTestId("preset-unverified").textContent).toContain("No recorded Knowlarity delivery");
    await user.click(screen.getByLabelText("3CX"));
    expect(screen.queryByTestId("preset-unverified")).toBeNull();
    expect(screen.getByTestId("preset-template").getAttribute("download")).toBe("callboard-3cx.xml");
  });
});
