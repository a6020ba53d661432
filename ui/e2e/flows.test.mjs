// IVR flows end to end, on a real server and a real Chromium: build a flow in
// the editor (palette, properties, keyboard), fix the validation error the
// server reports, publish, run the simulator; the template in one click; the
// provider's flow and dialect; a supervisor's read-only view.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN_TOKEN,
  adminApi,
  axeViolations,
  launchBrowser,
  shots,
  startServer,
  signedIn as signIn,
} from "./harness.mjs";

let srv;
let browser;
let api;
const state = {};

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  for (const name of ["Sales", "Support"]) {
    await api.post("/api/providers", {
      name,
      field_mapping: { call_id: "call_id", status: "status" },
      status_map: { ringing: "ringing", completed: "completed" },
    });
  }
  for (const [username, role, departments, phone] of [
    ["asha", "agent", ["sales"], "+919800000001"],
    ["bala", "agent", ["support"], "+919800000002"],
    ["sara", "supervisor", [], null],
  ]) {
    const u = await api.post("/api/users", { username, password: `${username}-password-1`, role, departments });
    if (!phone) continue;
    // A queue rings the department's available agents on their phones.
    await put(`/api/users/${u.id}/phone`, { phone });
    await put(`/api/agents/${u.id}/state`, { state: "available" });
  }
});

async function put(path, body) {
  const res = await fetch(`${srv.url}${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const signedIn = (username, password) => signIn(browser, srv.url, username, password);

/** Selects a node on the canvas (after fitting the view, so it is on screen). */
async function pick(page, id) {
  await page.locator(".react-flow__controls-fitview").click();
  await page.locator(`.react-flow__node[data-id="${id}"]`).click();
  await page.getByTestId("properties").getByLabel("Node id").waitFor();
  assert.equal(await page.getByTestId("properties").getByLabel("Node id").inputValue(), id);
}

function props(page) {
  return page.getByTestId("properties");
}

test("an admin builds a flow in the editor, fixes what the validator finds, publishes and tests it", async () => {
  const page = await signedIn("admin", srv.password);
  state.admin = page;
  await page.getByRole("link", { name: "IVR flows" }).click();
  await page.getByRole("button", { name: "New flow", exact: true }).click();
  await page.getByLabel("Name").fill("Front desk");
  await page.getByRole("button", { name: "Create and open" }).click();
  await page.getByTestId("flow-editor").waitFor();
  await page.locator('.react-flow__node[data-id="welcome"]').waitFor();

  // Add the nodes from the palette (each lands below the selected node and is selected).
  const palette = page.getByRole("toolbar", { name: "Add a node" });
  await pick(page, "welcome");
  await props(page).getByLabel("Greeting (text to speech)").fill("Welcome to the front desk.");
  for (const label of ["Menu", "Queue", "Voicemail", "Hang up"]) {
    await palette.getByRole("button", { name: label, exact: true }).click();
  }
  for (const id of ["menu", "queue", "record", "hangup"]) {
    await page.locator(`.react-flow__node[data-id="${id}"]`).waitFor();
  }

  // Wire them through the properties panel.
  await pick(page, "welcome");
  await props(page).getByLabel("Next").selectOption("menu");
  await pick(page, "menu");
  await props(page).getByLabel("Prompt (text to speech)").fill("For sales, press 1.");
  await props(page).getByRole("button", { name: "Add option 1" }).click();
  await props(page).getByLabel("Node for digit 1").selectOption("queue");
  await props(page).getByLabel("On timeout").selectOption("hangup");
  await pick(page, "queue");
  await props(page).getByLabel("Department").selectOption("sales");
  await props(page).getByLabel("On timeout").selectOption("record");
  await pick(page, "record");
  await props(page).getByLabel("Next").selectOption("hangup");
  // The edges follow the fields.
  for (const e of ["welcome:next", "menu:options.1", "menu:on_timeout", "queue:on_timeout", "record:next"]) {
    await page.locator(`.react-flow__edge[data-id="${e}"]`).waitFor();
  }

  // Ctrl+S saves and checks: the menu has no way out for an invalid key.
  await page.locator(".react-flow__pane").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("Control+s");
  const problem = page.getByTestId("problems").locator('li[data-code="menu_no_invalid"]');
  await problem.waitFor();
  await page.locator('.ivr-node.has-errors[data-node="menu"]').waitFor();
  await shots(page, "flows-01-problem");

  // Fix it from the problem list; undo and redo the fix with the keyboard.
  await problem.getByRole("button", { name: "menu" }).click();
  await props(page).getByLabel("On invalid digit").selectOption("hangup");
  await page.locator('.react-flow__edge[data-id="menu:on_invalid"]').waitFor();
  await page.locator(".react-flow__pane").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("Control+z");
  await page.locator('.react-flow__edge[data-id="menu:on_invalid"]').waitFor({ state: "detached" });
  await page.keyboard.press("Control+Shift+z");
  await page.locator('.react-flow__edge[data-id="menu:on_invalid"]').waitFor();
  await page.keyboard.press("Control+s");
  await page.getByRole("status").filter({ hasText: "No problems found" }).waitFor();
  const saved = await api.get(`/api/flows/${state.flowId ?? (await flowIdOf("Front desk"))}`);
  const menu = saved.nodes.find((n) => n.id === "menu");
  assert.deepEqual(menu.options, { 1: "queue" });
  assert.equal(menu.on_invalid, "hangup");
  assert.ok(
    saved.nodes.every((n) => n.position && typeof n.position.x === "number"),
    "positions are saved",
  );

  await page.getByRole("button", { name: "Publish" }).click();
  await page.getByRole("status").filter({ hasText: "Version 1 published" }).waitFor();

  // The simulator: a test call in TwiML, press 1, the queue is reached.
  await page.getByRole("tab", { name: "Test call" }).click();
  const sim = page.getByTestId("simulator");
  await sim.getByLabel("Dialect").selectOption("twilio");
  await sim.getByRole("button", { name: "Start test call" }).click();
  await sim.locator('[data-testid="sim-step"][data-node="menu"]').waitFor();
  assert.match(await sim.getByTestId("sim-response").innerText(), /<Response>[\s\S]*<Gather/);
  await sim.getByRole("button", { name: "Press 1" }).click();
  await sim.locator('[data-testid="sim-step"][data-node="queue"]').waitFor();
  await page.locator('.ivr-node[data-node="queue"][data-current]').waitFor();
  await page.locator('.ivr-node[data-node="welcome"][data-visited]').waitFor();
  assert.match(await sim.getByTestId("sim-response").innerText(), /<Response>/);
  await shots(page, "flows-02-simulator");
  // Another dialect answers the same path in its own words.
  await sim.getByLabel("Dialect").selectOption("vonage");
  await sim.getByTestId("sim-response").filter({ hasText: '"action"' }).waitFor();
  await sim.locator('[data-testid="sim-step"][data-node="queue"]').waitFor();
  assert.match(await sim.getByTestId("sim-response").innerText(), /^\s*[[{]/);
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
});

async function flowIdOf(name) {
  const r = await api.get("/api/flows");
  const list = Array.isArray(r) ? r : r.data;
  const f = list.find((x) => x.name === name);
  assert.ok(f, `flow ${name}`);
  state.flowId = f.id;
  return f.id;
}

test("the Customer support template is one click, and the list shows versions", async () => {
  const page = state.admin;
  await page.getByRole("link", { name: "IVR flows" }).click();
  // The list refetches on arrival: the published version replaces "Draft only".
  await page.locator('tr[data-flow="Front desk"] [data-testid="flow-version"]', { hasText: /^v1$/ }).waitFor();
  await page.getByRole("button", { name: "New from “Customer support” template" }).click();
  await page.getByTestId("flow-editor").or(page.getByRole("alert")).first().waitFor();
  assert.equal(await page.getByRole("alert").count(), 0, await page.locator("main").innerText());
  for (const id of ["welcome", "hours", "main_menu", "sales_queue", "support_queue", "voicemail", "after_hours"]) {
    await page.locator(`.react-flow__node[data-id="${id}"]`).waitFor();
  }
  await page.getByRole("button", { name: "Check" }).click();
  await page.getByRole("status").filter({ hasText: "No problems found." }).waitFor();
  assert.equal(await page.getByTestId("problems").locator("li").count(), 0);
  await shots(page, "flows-03-template");
  await page.getByRole("link", { name: "← All flows" }).click();
  await page.locator('tr[data-flow="Customer support"]').waitFor();
  await shots(page, "flows-04-list");
});

test("the provider form points a department at the flow, with its dialect and IVR URL", async () => {
  const page = state.admin;
  await page.goto(`${srv.url}/masters/providers/sales`);
  const card = page.getByTestId("provider-ivr");
  await card.getByLabel("Flow").selectOption({ label: "Front desk (v1)" });
  await card.getByLabel("IVR dialect").selectOption("kookoo");
  assert.match(await card.getByTestId("provider-ivr-url").innerText(), /\/ivr\/sales/);
  await card.getByRole("button", { name: "Save IVR flow" }).click();
  await card.getByRole("status").filter({ hasText: "IVR flow saved." }).waitFor();
  const p = await api.get("/api/providers/sales");
  assert.equal(String(p.flow_id), String(state.flowId));
  assert.equal(p.ivr_dialect, "kookoo");
});

test("a supervisor sees flows read only; an agent does not see them", async () => {
  const sup = await signedIn("sara", "sara-password-1");
  await sup.getByRole("link", { name: "IVR flows" }).click();
  await sup.getByRole("link", { name: "Open Front desk" }).click();
  await sup.locator('.react-flow__node[data-id="menu"]').waitFor();
  assert.equal(await sup.getByRole("toolbar", { name: "Add a node" }).count(), 0);
  assert.equal(await sup.getByRole("button", { name: "Publish" }).count(), 0);
  await sup.locator(".react-flow__controls-fitview").click();
  await sup.locator('.react-flow__node[data-id="menu"]').click();
  assert.equal((await props(sup).locator("fieldset[disabled]").count()) > 0, true);
  await shots(sup, "flows-05-read-only");

  const agent = await signedIn("asha", "asha-password-1");
  assert.equal(await agent.getByRole("link", { name: "IVR flows" }).count(), 0);
});
