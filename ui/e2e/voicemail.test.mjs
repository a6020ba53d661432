// The voicemail inbox: an agent plays a voicemail inline (the first play is
// noted), marks it handled (it leaves the open inbox, shows under Handled),
// filters by department in the address bar; a supervisor deletes one after
// confirming. Real server, real Chromium, recordings served from loopback.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { adminApi, axeAtBothSizes, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let media;
const keys = {};

/** One second of silence as a WAV file. */
function silence() {
  const rate = 8000;
  const data = Buffer.alloc(rate);
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write("WAVEfmt ", 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate, 28);
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write("data", 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data.fill(128)]);
}

async function line(name) {
  const created = await api.post("/api/providers", {
    name,
    field_mapping: {
      call_id: "call_id",
      status: "status",
      mobile_number: "from",
      agent_name: "agent",
      voicemail_link: "vm",
      transcription_text: "tx",
      voicemail_duration_ms: { path: "ms", transform: "int" },
    },
    status_map: { missed: "missed" },
  });
  keys[created.slug] = created.api_key;
  return created.slug;
}

async function leave(slug, id, from, tx) {
  await webhook(`${srv.url}/webhooks/ivr/${slug}`, keys[slug], {
    call_id: id,
    status: "missed",
    from,
    agent: "Asha",
    vm: `${media.base}/${id}.wav`,
    tx,
    ms: 9000,
  });
}

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const wav = silence();
  media = await new Promise((resolve) => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "audio/wav", "content-length": wav.length });
      res.end(wav);
    });
    server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` }));
  });
  const sales = await line("Sales Desk");
  const care = await line("Care Desk");
  await leave(sales, "VM-1", "+919811100001", "Please call me back about my order");
  await leave(sales, "VM-2", "+919811100002", "Wrong delivery address");
  await leave(care, "VM-3", "+919811100003", "Refund question");
  for (const [username, role] of [
    ["asha", "agent"],
    ["sam", "supervisor"],
  ]) {
    await api.post("/api/users", {
      username,
      password: `${username}-password-1`,
      role,
      departments: role === "agent" ? [sales, care] : [],
    });
  }
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  media?.server.close();
});

async function signIn(username) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(`${username}-password-1`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
  return { ctx, page };
}

const row = (page, id) => page.locator(`[data-testid=voicemail-row][data-call-id="${id}"]`);

test("an agent plays a voicemail, marks it handled, and filters the inbox in the address bar", async () => {
  const { ctx, page } = await signIn("asha");
  await page.getByRole("link", { name: "Voicemail" }).click();
  await page.getByTestId("vm-total").getByText("3 voicemails").waitFor();
  const first = row(page, "VM-1");
  await first.getByText("Please call me back about my order").waitFor();
  await first.getByText("New", { exact: true }).waitFor();
  await shots(page, "voicemail-inbox");
  const violations = await axeAtBothSizes(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
  await page.setViewportSize({ width: 1366, height: 800 });

  // Played inline: noted for everyone.
  await first.locator("audio").evaluate((a) => a.play());
  await first
    .getByTestId("vm-played")
    .getByText(/Played by asha/)
    .waitFor();
  const listened = await api.get("/api/voicemails?view=listened");
  assert.deepEqual(
    listened.data.map((v) => v.call_id),
    ["VM-1"],
  );

  // Handled: out of the open inbox, under Handled.
  await first.getByRole("button", { name: "Mark handled" }).click();
  await page.getByTestId("vm-total").getByText("2 voicemails").waitFor();
  await page.getByTestId("vm-view-handled").click();
  await page.waitForURL(/view=handled/);
  await row(page, "VM-1")
    .getByTestId("vm-handled")
    .getByText(/Handled by asha/)
    .waitFor();

  // Department filter in the URL, kept on reload.
  await page.getByTestId("vm-view-open").click();
  await page.getByLabel("Department").selectOption({ label: "Care Desk" });
  await page.waitForURL(/department=care-desk/);
  await page.reload();
  await row(page, "VM-3").waitFor();
  assert.equal(await page.getByTestId("voicemail-row").count(), 1);
  assert.equal(await page.getByLabel("Department").inputValue(), "care-desk");
  // Agents do not delete.
  assert.equal(await row(page, "VM-3").getByRole("button", { name: "Delete" }).count(), 0);
  await ctx.close();
});

test("a supervisor deletes a voicemail after confirming; it is gone and audited", async () => {
  const { ctx, page } = await signIn("sam");
  await page.goto(`${srv.url}/voicemail?view=all`);
  const target = row(page, "VM-2");
  await target.waitFor();
  await target.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete voicemail" }).click();
  await target.waitFor({ state: "detached" });
  const all = await api.get("/api/voicemails?view=all");
  assert.deepEqual(all.data.map((v) => v.call_id).sort(), ["VM-1", "VM-3"]);
  const audit = await api.get("/api/audit?limit=10");
  assert.ok(
    audit.data.some((e) => e.action === "voicemail.delete" && e.actor === "sam"),
    JSON.stringify(audit.data.map((e) => e.action)),
  );
  await ctx.close();
});

test("a voicemail meant for an agent shows them a notice that opens the inbox; others see none", async () => {
  const { ctx, page } = await signIn("asha");
  const other = await signIn("sam");
  await page.getByRole("link", { name: "Voicemail" }).click();
  const users = await api.get("/api/users");
  const asha = users.data.find((u) => u.username === "asha");
  await webhook(`${srv.url}/webhooks/ivr/sales-desk`, keys["sales-desk"], {
    call_id: "VM-4",
    status: "missed",
    from: "+919811100004",
  });
  await api.post("/api/calls/VM-4/assign?department=sales-desk", { user_id: asha.id });
  await leave("sales-desk", "VM-4", "+919811100004", "It is about the invoice");
  const notice = page.getByTestId("voicemail-notice");
  await notice.getByText(/New voicemail for you from .*Sales Desk/).waitFor();
  await shots(page, "voicemail-notice");
  // The supervisor is not who it is for.
  await other.page.waitForTimeout(500);
  assert.equal(await other.page.getByTestId("voicemail-notice").count(), 0);
  await notice.getByRole("link", { name: "Open the inbox" }).click();
  await page.waitForURL(/\/voicemail\?department=sales-desk/);
  await row(page, "VM-4").getByText("It is about the invoice").waitFor();
  await notice.waitFor({ state: "detached" });
  await other.ctx.close();
  await ctx.close();
});
