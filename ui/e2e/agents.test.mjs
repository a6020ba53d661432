// The agent board end to end: state with its colour and time in state, the
// call each agent is on, callbacks open and overdue, calls handled today —
// all following the stream without a reload. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeAtBothSizes, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let page;
const state = {};

async function login(username, password) {
  const res = await fetch(`${srv.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const created = await api.post("/api/providers", {
    name: "Help Line",
    sla_minutes: 0,
    field_mapping: { call_id: "call_id", status: "status", agent_id: "agent", mobile_number: "from" },
    status_map: { ringing: "ringing", answered: "active", "no-answer": "missed", completed: "completed" },
  });
  state.key = created.api_key;
  state.webhookUrl = `${srv.url}/webhooks/ivr/help-line`;
  for (const [username, role, departments, display_name] of [
    ["ravi", "agent", ["help-line"], "Ravi Kumar"],
    ["meera", "agent", ["help-line"], "Meera"],
    ["sara", "supervisor", [], "Sara"],
  ]) {
    const u = await api.post("/api/users", {
      username,
      password: `${username}-password-1`,
      role,
      departments,
      display_name,
    });
    state[username] = u.id;
  }
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("sara");
  await page.getByLabel("Password").fill("sara-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const row = (username) => page.locator(`tr[data-username="${username}"]`);

test("the board shows each agent's state, with time in state ticking", async () => {
  const ravi = await login("ravi", "ravi-password-1");
  state.raviToken = ravi;
  const res = await fetch(`${srv.url}/api/agents/${state.ravi}/state`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ravi}`, "content-type": "application/json" },
    body: JSON.stringify({ state: "available" }),
  });
  assert.equal(res.status, 200, await res.text());
  await page.getByRole("link", { name: "Agents" }).click();
  await page.getByRole("heading", { name: "Agent board" }).waitFor();
  await page.locator('tr[data-username="ravi"][data-state="available"]').waitFor();
  await page.locator('tr[data-username="meera"][data-state="offline"]').waitFor();
  await page
    .getByTestId("agent-summary")
    .getByText(/Available\s*1/)
    .waitFor();
  const first = await row("ravi").getByTestId("time-in-state").textContent();
  assert.match(first, /^\d+:\d\d$/);
  await page.waitForTimeout(2100);
  const later = await row("ravi").getByTestId("time-in-state").textContent();
  assert.notEqual(later, first, "time in state ticks");
  assert.equal(await row("meera").getByTestId("time-in-state").textContent(), "—", "never set: no time");
});

test("a call answered by an agent shows as their current call, without a reload", async () => {
  await page.evaluate(() => (window.__noReload = true));
  await webhook(state.webhookUrl, state.key, {
    call_id: "A-1",
    status: "ringing",
    agent: "ravi",
    from: "+919800000001",
  });
  await webhook(state.webhookUrl, state.key, {
    call_id: "A-1",
    status: "answered",
    agent: "ravi",
    from: "+919800000001",
  });
  const current = row("ravi").getByTestId("current-call");
  await current.getByText("+91 98000 00001").waitFor({ timeout: 3000 });
  await current.getByText("Active").waitFor();
  await current.getByText(/Help Line/).waitFor();
  assert.equal(await row("meera").getByTestId("current-call").textContent(), "—");
  assert.equal(await page.evaluate(() => window.__noReload), true);
});

test("callbacks open and overdue, and calls handled today, follow the work", async () => {
  await webhook(state.webhookUrl, state.key, { call_id: "M-1", status: "no-answer", from: "+919800000002" });
  await webhook(state.webhookUrl, state.key, { call_id: "M-2", status: "no-answer", from: "+919800000003" });
  for (const id of ["M-1", "M-2"]) {
    const res = await fetch(`${srv.url}/api/calls/${id}/assign?department=help-line`, {
      method: "POST",
      headers: { authorization: `Bearer ${state.raviToken}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 200, await res.text());
  }
  await row("ravi").getByTestId("open").filter({ hasText: /^2$/ }).waitFor({ timeout: 3000 });
  await row("ravi").getByTestId("overdue").filter({ hasText: "⚠ 2" }).waitFor();
  await shots(page, "a10-agent-board");
  const res = await fetch(`${srv.url}/api/calls/M-1/disposition?department=help-line`, {
    method: "POST",
    headers: { authorization: `Bearer ${state.raviToken}`, "content-type": "application/json" },
    body: JSON.stringify({ category: "Not reachable", outcome: "resolved" }),
  });
  assert.equal(res.status, 201, await res.text());
  await row("ravi").getByTestId("handled").filter({ hasText: /^1$/ }).waitFor({ timeout: 3000 });
  await row("ravi").getByTestId("overdue").filter({ hasText: "⚠ 1" }).waitFor();
  await webhook(state.webhookUrl, state.key, { call_id: "A-1", status: "completed", agent: "ravi" });
  await row("ravi").getByTestId("handled").filter({ hasText: /^2$/ }).waitFor({ timeout: 3000 });
  await row("ravi").getByTestId("current-call").filter({ hasText: /^—$/ }).waitFor();
  assert.equal(await row("meera").getByTestId("handled").textContent(), "0");
});

test("a supervisor changes an agent's state on the board", async () => {
  await page.getByLabel("State of meera").selectOption("away");
  await page.locator('tr[data-username="meera"][data-state="away"]').waitFor({ timeout: 3000 });
  const list = await api.get("/api/agents");
  assert.equal(list.data.find((a) => a.username === "meera").state, "away");
});

test("the board passes axe, light and dark, at 1366×800 and 390×844", async () => {
  assert.deepEqual(await axeAtBothSizes(page, { settleMs: 150 }), []);
});
