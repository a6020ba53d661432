import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ProviderForm } from "./ProviderForm";

interface Sent {
  url: string;
  body: unknown;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

let sent: Sent[] = [];

beforeEach(() => {
  sent = [];
  vi.stubGlobal(
    "fetch",
    // The typed client hands `fetch` one Request.
    vi.fn(async (req: Request) => {
      const url = req.url;
      const text = await req.text();
      const body = text ? JSON.parse(text) : undefined;
      sent.push({ url, body });
      if (url.endsWith("/api/mapping/preview")) {
        const fm = (body as { field_mapping: Record<string, unknown> }).field_mapping;
        if ("bogus" in fm)
          return json(422, { error: { code: "invalid", message: "field_mapping.bogus: unknown transform `x`" } });
        const sample = (body as { sample: Record<string, unknown> }).sample;
        return json(200, {
          call: { call_id: sample.call_id, status: sample.status, metadata: {} },
          warnings: ["unknown raw status `parked`: add it to the status map"],
          error: null,
          unknown_status: false,
          sample,
        });
      }
      if (url.endsWith("/api/providers")) {
        const b = body as { name: string; slug: string };
        if (b.slug === "taken")
          return json(409, { error: { code: "conflict", message: "a provider with slug `taken` already exists" } });
        return json(201, { ...b, api_key: "cbk_secret", webhook_url: `http://x/webhooks/ivr/${b.slug}` });
      }
      return json(404, { error: { code: "not_found", message: "nope" } });
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderForm(onCreated = vi.fn()) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <ProviderForm onCreated={onCreated} onCancel={() => {}} />
    </QueryClientProvider>,
  );
  return onCreated;
}

describe("ProviderForm (create)", () => {
  it("fills the slug from the name as you type, until the slug is edited", async () => {
    const user = userEvent.setup();
    renderForm();
    const name = screen.getByLabelText("Name");
    const slug = screen.getByLabelText("Slug") as HTMLInputElement;
    await user.type(name, "Sales IVR (North)");
    expect(slug.value).toBe("sales-ivr-north");
    await user.clear(slug);
    await user.type(slug, "north");
    await user.type(name, " 2");
    expect(slug.value).toBe("north");
  });

  it("validates before sending, and shows the server's refusal next to the form", async () => {
    const user = userEvent.setup();
    const onCreated = renderForm();
    const sla = screen.getByLabelText("SLA minutes");
    await user.clear(sla);
    await user.type(sla, "0");
    await user.click(screen.getByRole("button", { name: "Create provider" }));
    expect(screen.getByText("Name is required.")).toBeTruthy();
    expect(screen.getAllByText(/SLA minutes must be a positive whole number/).length).toBeGreaterThan(0);
    expect(sent.filter((s) => s.url.endsWith("/api/providers"))).toHaveLength(0);

    await user.type(screen.getByLabelText("Name"), "Taken");
    await user.clear(screen.getByLabelText("Slug"));
    await user.type(screen.getByLabelText("Slug"), "taken");
    await user.clear(sla);
    await user.type(sla, "15");
    await user.click(screen.getByRole("button", { name: "Create provider" }));
    await screen.findByText("A provider with slug `taken` already exists.");
    expect(onCreated).not.toHaveBeenCalled();

    // A cleared slug follows the name again.
    await user.clear(screen.getByLabelText("Slug"));
    await user.type(screen.getByLabelText("Name"), " Two");
    expect((screen.getByLabelText("Slug") as HTMLInputElement).value).toBe("taken-two");
    await user.type(screen.getByLabelText("DID numbers"), "+918045678900, +918045678901");
    await user.click(screen.getByRole("button", { name: "Create provider" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    const post = sent.filter((s) => s.url.endsWith("/api/providers")).at(-1);
    expect(post?.body).toMatchObject({
      name: "Taken Two",
      slug: "taken-two",
      sla_minutes: 15,
      did_numbers: ["+918045678900", "+918045678901"],
      field_mapping: { call_id: "call_id", status: "status" },
    });
    expect(onCreated.mock.calls[0]?.[0]).toMatchObject({ api_key: "cbk_secret" });
  });

  it("previews a pasted sample with the draft mapping, debounced", async () => {
    const user = userEvent.setup();
    renderForm();
    const sample = screen.getByLabelText("Sample payload");
    await user.click(sample);
    await user.paste('{"call_id":"X1","status":"ringing"}');
    await screen.findByText("Would be applied to call X1.");
    expect(screen.getByText(/unknown raw status `parked`/)).toBeTruthy();
    const previews = sent.filter((s) => s.url.endsWith("/api/mapping/preview"));
    expect(previews).toHaveLength(1);
    expect(previews[0]?.body).toMatchObject({ sample: { call_id: "X1" }, field_mapping: { call_id: "call_id" } });
  });

  it("shows the server's mapping error beside the mapping", async () => {
    const user = userEvent.setup();
    renderForm();
    await user.click(screen.getByRole("button", { name: "JSON" }));
    const box = screen.getByLabelText("Mapping JSON");
    await user.clear(box);
    await user.click(box);
    await user.paste('{"field_mapping": {"bogus": {"path": "a", "transform": "x"}}}');
    await user.click(screen.getByLabelText("Sample payload"));
    await user.paste('{"a": 1}');
    const err = await screen.findByTestId("mapping-server-error");
    expect(err.textContent).toBe("field_mapping.bogus: unknown transform `x`");
  });
});
