// Operations end to end: agent states, callback routing, business hours in
// the provider form and the audit log, on a real server and a real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeViolations, launchBrowser, shots, startServer, webhook, signedIn as signIn } from "./harness.mjs";

let srv;
let browser;
let api;
const state = {};

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const created = await api.post("/api/providers", {
    name: "Support Desk",
    field_mapping: { call_id: "call_id", status: "status" },
    status_map: { missed: "missed", hangup: "hangup", ringing: "ringing" },
  });
  state.key = created.api_key;
  state.webhookUrl = `${srv.url}/webhooks/ivr/support-desk`;
  for (const [username, role, departments] of [
    ["ravi", "agent", ["support-desk"]],
    ["sara", "supervisor", []],
  ]) {
    await api.post("/api/users", { username, password: `${username}-password-1`, role, departments });
  }
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const signedIn = (username, password) => signIn(browser, srv.url, username, password, { width: 1280, height: 800 });

test("an agent sets their state and a supervisor sees it on the Agents page", async () => {
  const agent = await signedIn("ravi", "ravi-password-1");
  const mine = agent.getByTestId("my-state");
  assert.equal(await mine.inputValue(), "offline", "never set: offline");
  await mine.selectOption("available");
  state.agent = agent;

  const sup = await signedIn("sara", "sara-password-1");
  await sup.getByRole("link", { name: "Agents" }).click();
  await sup.locator('tr[data-username="ravi"][data-state="available"]').waitFor({ timeout: 3000 });
  await shots(sup, "ops-01-agents");
  // A change made elsewhere arrives over the stream.
  await mine.selectOption("busy");
  await sup.locator('tr[data-username="ravi"][data-state="busy"]').waitFor({ timeout: 3000 });
  assert.deepEqual(await axeViolations(sup), []);
  state.sup = sup;
});

test("an admin sets business hours and round-robin routing in the provider form", async () => {
  const admin = await signedIn("admin", srv.password);
  await admin.goto(`${srv.url}/masters/providers/support-desk`);
  const card = admin.getByTestId("sla-routing");
  await card.getByLabel("Count the SLA only in business hours").check();
  await card.getByLabel("Time zone").fill("Europe/London");
  await card.getByLabel("Monday").fill("09:00-13:00, 14:00-18:00");
  await card.getByLabel("Saturday").fill("9am");
  await admin.getByRole("button", { name: "Save changes" }).click();
  await card.getByText("Saturday: write intervals as HH:MM-HH:MM").waitFor();
  await card.getByLabel("Saturday").fill("");
  await card.getByLabel("Holidays").fill("2026-12-25");
  await card.getByLabel("Routing").selectOption("round_robin");
  // Settling by hand only: the note under the switch says what that means.
  const auto = card.getByLabel("Settle a missed call by itself when the caller is reached");
  assert.ok(await auto.isChecked(), "on by default");
  await auto.uncheck();
  await card.getByText("Missed calls stay on the worklist until a person records a disposition").waitFor();
  await shots(admin, "ops-02-business-hours");
  await admin.getByRole("button", { name: "Save changes" }).click();
  await admin.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const p = await api.get("/api/providers/support-desk");
  assert.equal(p.business_hours.time_zone, "Europe/London");
  assert.deepEqual(p.business_hours.weekly.mon, [
    ["09:00", "13:00"],
    ["14:00", "18:00"],
  ]);
  assert.deepEqual(p.business_hours.holidays, ["2026-12-25"]);
  assert.equal(p.routing.strategy, "round_robin");
  assert.equal(p.auto_resolve, false);
  state.admin = admin;
});

test("an admin maps the platform's agent id to a user in the provider page", async () => {
  const admin = state.admin;
  await admin.goto(`${srv.url}/masters/providers/support-desk`);
  const card = admin.getByTestId("agent-ids");
  await card.getByText("No agent id mapped yet.").waitFor();
  await card.getByLabel("Agent id", { exact: true }).fill("AG-42");
  await card.getByLabel("Callboard user", { exact: true }).selectOption({ label: "ravi" });
  await card.getByRole("button", { name: "Map", exact: true }).click();
  await card.locator('tr[data-agent-id="AG-42"]').filter({ hasText: "ravi" }).waitFor();
  const l = await api.get("/api/providers/support-desk/agent-ids");
  assert.equal(l.platform, "provider:support-desk");
  assert.deepEqual(
    l.data.map((m) => [m.external_id, m.username]),
    [["AG-42", "ravi"]],
  );
  await card.scrollIntoViewIfNeeded();
  await shots(admin, "ops-02b-agent-ids");
  assert.deepEqual(await axeViolations(admin), []);
  await card.getByRole("button", { name: "Remove agent id AG-42" }).click();
  await card.getByText("No agent id mapped yet.").waitFor();
});

test("a new missed call is routed to the available agent and shows in their worklist", async () => {
  await state.agent.getByTestId("my-state").selectOption("available");
  await webhook(state.webhookUrl, state.key, { call_id: "OPS-1", status: "missed" });
  const call = await api.get("/api/calls/OPS-1");
  assert.equal(call.assignee_name, "ravi");
  const agent = state.agent;
  await agent.goto(`${srv.url}/hangup/support-desk?view=assigned`);
  await agent.locator('tr[data-call-id="OPS-1"]').waitFor({ timeout: 3000 });
  await shots(agent, "ops-03-routed");
  // Away: the next call waits unassigned.
  await agent.getByTestId("my-state").selectOption("away");
  await state.sup.locator('tr[data-username="ravi"][data-state="away"]').waitFor({ timeout: 3000 });
  await webhook(state.webhookUrl, state.key, { call_id: "OPS-2", status: "hangup" });
  assert.equal((await api.get("/api/calls/OPS-2")).assignee_id, null);
});

test("the audit page filters by entity and actor", async () => {
  const admin = state.admin;
  await admin.getByRole("link", { name: "Audit log" }).click();
  const table = admin.getByTestId("audit-table");
  await table.waitFor();
  await admin.getByLabel("Entity").selectOption("provider");
  await admin.getByRole("button", { name: "Apply filters" }).click();
  await admin.locator('tr[data-action="provider.update"]').first().waitFor();
  const actions = await table.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.action));
  assert.ok(actions.length >= 2, `${actions}`);
  assert.ok(
    actions.every((a) => a.startsWith("provider.")),
    `${actions}`,
  );
  await shots(admin, "ops-04-audit");
  await admin.getByLabel("Actor").fill("nobody-at-all");
  await admin.getByRole("button", { name: "Apply filters" }).click();
  await admin.getByText("No entries match these filters.").waitFor();
  assert.deepEqual(await axeViolations(admin), []);
});
