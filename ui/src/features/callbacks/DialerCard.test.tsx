import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { DialerSpec, Provider } from "../../api/types";
import { DialerCard } from "./DialerCard";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const twilio: DialerSpec = {
  kind: "twilio",
  label: "Twilio",
  agent: "phone",
  reports_status: true,
  fields: [
    { name: "account_sid", label: "Account SID", required: true, secret: false, multiline: false },
    { name: "auth_token", label: "Auth token", required: true, secret: true, multiline: false },
  ],
};

// What the server's `/api/dialer-kinds` says of Vonage (the form is built from it).
const vonage: DialerSpec = {
  kind: "vonage",
  label: "Vonage",
  agent: "phone",
  reports_status: true,
  fields: [
    { name: "application_id", label: "Application ID", required: true, secret: false, multiline: false },
    { name: "private_key", label: "Private key", required: true, secret: true, multiline: true },
    { name: "caller_id", label: "Vonage number (caller ID)", required: true, secret: false, multiline: false },
    { name: "base_url", label: "https://api.nexmo.com", required: false, secret: false, multiline: false },
  ],
};

let put: unknown[] = [];

beforeEach(() => {
  put = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (req: Request) => {
      if (req.url.endsWith("/api/dialer-kinds")) return json(200, [vonage, twilio]);
      if (req.url.endsWith("/api/dialers")) return json(200, []);
      if (req.url.endsWith("/api/providers/sales/dialer") && req.method === "PUT") {
        put.push(JSON.parse(await req.text()));
        return json(422, { error: { code: "invalid", message: "private_key: the key is not a PEM private key" } });
      }
      return json(404, { error: { code: "not_found", message: "nope" } });
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderCard() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <DialerCard provider={{ slug: "sales" } as Provider} />
    </QueryClientProvider>,
  );
}

describe("DialerCard", () => {
  it("takes Vonage's private key in a multi-line field and sends it only as a secret", async () => {
    const user = userEvent.setup();
    renderCard();
    await user.selectOptions(await screen.findByTestId("dialer-kind"), "vonage");
    const key = screen.getByTestId("dialer-private_key");
    expect(key.tagName).toBe("TEXTAREA");
    expect(screen.getByTestId("dialer-application_id").tagName).toBe("INPUT");
    await user.type(screen.getByTestId("dialer-application_id"), "aaaaaaaa-bbbb");
    await user.type(screen.getByTestId("dialer-caller_id"), "+14155550100");
    await user.type(key, "-----BEGIN PRIVATE KEY-----{Enter}MIIE{Enter}-----END PRIVATE KEY-----");
    await user.click(screen.getByTestId("dialer-save"));
    await waitFor(() => expect(put).toHaveLength(1));
    expect(put[0]).toEqual({
      kind: "vonage",
      fields: { application_id: "aaaaaaaa-bbbb", caller_id: "+14155550100" },
      secrets: { private_key: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----" },
    });
    // The server's refusal is shown as it says it.
    expect(await screen.findByText(/not a PEM private key/)).toBeTruthy();
  });

  it("says that a Twilio dialer also rings the agents of IVR queues with hold music", async () => {
    const user = userEvent.setup();
    renderCard();
    await user.selectOptions(await screen.findByTestId("dialer-kind"), "vonage");
    expect(screen.queryByTestId("dialer-twilio-queues")).toBeNull();
    await user.selectOptions(screen.getByTestId("dialer-kind"), "twilio");
    expect(screen.getByTestId("dialer-twilio-queues").textContent).toMatch(/hold music/);
  });
});
