// Call back from the worklist: an admin sets the department's click-to-call
// platform in the console, an agent presses Call back on a missed call, the
// platform (a fake Exotel on loopback that records what it is asked) gets
// the agent's phone first and the caller second; its status report makes the
// call "attempted" on screen, and the disposition resolves it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { adminApi, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let fake;
const asked = [];
const state = {};

function startFakeExotel() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        asked.push({
          method: req.method,
          url: req.url,
          auth: req.headers.authorization,
          form: new URLSearchParams(body),
        });
        res.writeHead(200, { "content-type": "application/json" });
        const sms = req.url.endsWith("/Sms/send.json");
        res.end(
          JSON.stringify(
            sms
              ? { SMSMessage: { Sid: `sms-${asked.length}`, Status: "queued" } }
              : { Call: { Sid: `exo-${asked.length}`, Status: "in-progress" } },
          ),
        );
      });
    });
    server.listen(0, "127.0.0.1", () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` }));
  });
}

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  fake = await startFakeExotel();
  api = adminApi(srv.url);
  const created = await api.post("/api/providers", {
    name: "Care Line",
    field_mapping: { call_id: "call_id", status: "status", mobile_number: "from" },
    status_map: { missed: "missed" },
  });
  await api.post("/api/users", {
    username: "asha",
    password: "asha-password-1",
    role: "agent",
    departments: ["care-line"],
    display_name: "Asha",
  });
  state.key = created.api_key;
  await webhook(`${srv.url}/webhooks/ivr/care-line`, created.api_key, {
    call_id: "CB-1",
    status: "missed",
    from: "+919811122233",
  });
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  fake?.server.close();
});

test("an admin sets Exotel as the department's click-to-call platform", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").waitFor();
  await page.goto(`${srv.url}/masters/providers/care-line`);
  const card = page.getByTestId("dialer");
  await card.waitFor();
  await card.getByTestId("dialer-kind").selectOption("exotel");
  await card.getByTestId("dialer-account_sid").fill("acme1");
  await card.getByTestId("dialer-api_key").fill("key1");
  await card.getByTestId("dialer-api_token").fill("exo-token-e2e");
  await card.getByTestId("dialer-caller_id").fill("08047112233");
  await card.getByTestId("dialer-base_url").fill(fake.base);
  await card.getByTestId("dialer-save").click();
  await card.getByTestId("dialer-health").getByText("Ready · Exotel").waitFor();
  await shots(page, "callback-dialer-settings");
  // The token went to the server's secret store; the console never gets it back.
  const dialers = await api.get("/api/dialers");
  assert.equal(dialers[0].kind, "exotel");
  assert.ok(!JSON.stringify(dialers).includes("exo-token-e2e"));
  await ctx.close();
});

test("an agent presses Call back; the platform rings the agent, then the caller; its report marks the call attempted", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("asha");
  await page.getByLabel("Password").fill("asha-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
  await page.goto(`${srv.url}/hangup/care-line`);
  const row = page.locator('tbody tr[data-call-id="CB-1"]');
  await row.click();
  await page.getByTestId("worklist-call-back").click();
  const drawer = page.getByTestId("call-drawer");
  const phone = drawer.getByTestId("call-back-agent");
  await phone.waitFor();
  assert.equal(await phone.evaluate((el) => el === document.activeElement), true, "the phone field has focus");
  await phone.fill("+91 98000 00001");
  await drawer.getByTestId("call-back-start").click();
  await drawer.getByTestId("call-back-started").waitFor();
  await drawer.getByTestId("call-back-state").getByText("Ringing your phone…").waitFor();

  assert.equal(asked.length, 1, "one request to the platform");
  const req = asked[0];
  assert.equal(req.url, "/v1/Accounts/acme1/Calls/connect.json");
  assert.equal(req.auth, `Basic ${Buffer.from("key1:exo-token-e2e").toString("base64")}`);
  assert.equal(req.form.get("From"), "+919800000001", "the agent is rung first");
  assert.equal(req.form.get("To"), "+919811122233", "then the caller");
  const statusUrl = req.form.get("StatusCallback");
  assert.ok(statusUrl?.startsWith(`${srv.url}/dial/`), statusUrl ?? "no StatusCallback");

  // Exotel reports: the caller's phone rang out.
  const r = await fetch(statusUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      CallSid: "exo-1",
      EventType: "terminal",
      Status: "no-answer",
      ConversationDuration: 0,
      Legs: [{ Status: "completed" }, { Status: "no-answer" }],
    }),
  });
  assert.equal(r.status, 200);
  // The drawer follows the stream: the attempt's outcome, the call attempted.
  await drawer.getByTestId("call-back-state").getByText("No answer").waitFor();
  await drawer.getByText("Attempted", { exact: true }).waitFor();
  await shots(page, "callback-attempted");
  const call = await api.get("/api/calls/CB-1?department=care-line");
  assert.equal(call.work_state, "attempted");
  assert.equal(call.attempts, 1);
  assert.equal(call.assignee_name, "asha");

  // The agent reached the caller later and records it: resolved.
  const form = drawer.getByTestId("disposition-form");
  await form.getByLabel("Category", { exact: true }).selectOption({ label: "Callback done" });
  await form.getByLabel("Outcome").selectOption("resolved");
  await form.getByRole("button", { name: "Save disposition" }).click();
  await drawer.getByText("Resolved", { exact: true }).first().waitFor();
  assert.equal((await api.get("/api/calls/CB-1?department=care-line")).work_state, "resolved");
  await ctx.close();
});

test("with texts on, a new missed caller gets the department's text, shown on the call", async () => {
  await api.post("/api/users", { username: "priya", password: "priya-password-1", role: "admin", departments: [] });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("priya");
  await page.getByLabel("Password").fill("priya-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
  await page.goto(`${srv.url}/masters/providers/care-line`);
  const card = page.getByTestId("sms");
  await card.waitFor();
  await card.getByLabel(/^Text \(/).fill("Sorry we missed you. {department} calls back soon.");
  // No quiet hours for this test.
  await card.getByLabel("Quiet from").fill("");
  await card.getByLabel("Quiet until").fill("");
  await card.getByLabel("Time zone").fill("UTC");
  await card.getByRole("button", { name: "Save texts" }).click();
  await card.getByRole("button", { name: "Stop texting" }).waitFor();
  const settings = await api.get("/api/providers/care-line/sms");
  assert.equal(settings.template, "Sorry we missed you. {department} calls back soon.");

  const before = asked.length;
  const key = state.key;
  await webhook(`${srv.url}/webhooks/ivr/care-line`, key, { call_id: "CB-2", status: "missed", from: "+919811100077" });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !asked.slice(before).some((r) => r.url.endsWith("/Sms/send.json"))) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const sms = asked.slice(before).find((r) => r.url.endsWith("/Sms/send.json"));
  assert.ok(sms, "the platform was asked to send a text");
  assert.equal(sms.form.get("To"), "+919811100077");
  assert.equal(sms.form.get("Body"), "Sorry we missed you. Care Line calls back soon.");
  await page.goto(`${srv.url}/hangup/care-line`);
  await page.locator('tbody tr[data-call-id="CB-2"]').click();
  await page.keyboard.press("Enter");
  await page
    .getByTestId("call-drawer")
    .getByTestId("call-sms")
    .getByText(/Texted/)
    .waitFor();
  await ctx.close();
});
