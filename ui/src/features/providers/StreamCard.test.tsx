import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StreamCard } from "./StreamCard";
import type { Provider } from "../../api/types";

let sent: { method: string; url: string; body: unknown }[] = [];

beforeEach(() => {
  sent = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (req: Request) => {
      const text = await req.text();
      sent.push({ method: req.method, url: req.url, body: text ? JSON.parse(text) : undefined });
      if (req.method === "PUT") return new Response(JSON.stringify({}), { status: 200 });
      return new Response(JSON.stringify({ error: { code: "not_found", message: "no connector" } }), {
        status: 404,
        headers: { "content-type": "application/json" },
      });
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("StreamCard", () => {
  it("sets up a 3CX Call Control stream with the application's credentials", async () => {
    const user = userEvent.setup();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <StreamCard provider={{ slug: "front-desk", preset: "3cx" } as Provider} platform="3cx" />
      </QueryClientProvider>,
    );
    expect(screen.getByText("3CX Call Control stream")).toBeTruthy();
    const address = screen.getByLabelText("3CX address") as HTMLInputElement;
    expect(address.value).toBe("https://pbx.example.com");
    await user.clear(address);
    await user.type(address, "https://pbx.office.example");
    await user.type(screen.getByLabelText("API application client_id:API key"), "callboard:k3y");
    await user.click(await screen.findByRole("button", { name: "Connect to 3CX" }));
    await waitFor(() => expect(sent.some((s) => s.method === "PUT")).toBe(true));
    const put = sent.find((s) => s.method === "PUT");
    expect(put?.url).toContain("/api/providers/front-desk/connector");
    expect(put?.body).toEqual({ base_url: "https://pbx.office.example", auth_token: "callboard:k3y", enabled: true });
  });
});
