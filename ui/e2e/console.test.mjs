// The console end to end: a real `callboard serve`, real webhooks over HTTP,
// a real Chromium. Each step is what a person at the console would notice.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeViolations, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
const state = {};

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  return ctx.newPage();
}

async function signIn(page, username, password) {
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
}

test("a wrong password is refused with a readable message", async () => {
  const page = await newPage();
  await page.goto(`${srv.url}/`);
  await shots(page, "01-sign-in");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
  await page.context().close();
});

test("the first-start link signs the admin in, and the session is remembered", async () => {
  const page = await newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").filter({ hasText: "admin" }).waitFor();
  assert.ok(!page.url().includes("code="), "the one-time code is removed from the address bar");
  await page.reload();
  await page.getByTestId("whoami").filter({ hasText: "admin" }).waitFor();
  await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
  state.admin = page;
});

test("an admin creates a provider in Masters and reads its webhook URL and key", async () => {
  const page = state.admin;
  await page.getByRole("link", { name: "Providers" }).click();
  await page.getByRole("button", { name: "Add provider" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Sales IVR");
  assert.equal(await page.getByLabel("Slug").inputValue(), "sales-ivr", "slug follows the name");
  await page.getByLabel("SLA minutes").fill("15");
  await shots(page, "05-provider-form");
  await page.getByRole("button", { name: "Create provider" }).click();
  const key = (await page.getByTestId("api-key").textContent()).trim();
  const url = (await page.getByTestId("webhook-url").textContent()).trim();
  assert.match(key, /^cbk_/);
  assert.match(url, /\/webhooks\/ivr\/sales-ivr$/);
  await shots(page, "06-provider-key");
  await page.getByRole("button", { name: "Done" }).click();
  state.key = key;
  state.webhookUrl = url;
  // The sidebar lists it under both queues at once.
  await page
    .getByTestId("nav-live")
    .getByRole("link", { name: /Sales IVR/ })
    .waitFor();
  await page
    .getByTestId("nav-hangup")
    .getByRole("link", { name: /Sales IVR/ })
    .waitFor();
  await shots(page, "07-masters-providers");
});

test("a webhook makes the call appear in the live queue within a second, without a reload", async () => {
  const page = state.admin;
  await page
    .getByTestId("nav-live")
    .getByRole("link", { name: /Sales IVR/ })
    .click();
  await page.waitForURL(/\/live\/sales-ivr$/);
  await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
  await page.evaluate(() => (window.__noReload = true));
  const sent = Date.now();
  await webhook(state.webhookUrl, state.key, {
    call_id: "E2E-1",
    mobile_number: "+919876543210",
    caller_name: "Asha Rao",
    did: "+918045678900",
    status: "ringing",
  });
  const row = page.locator('tr[data-call-id="E2E-1"]');
  await row.waitFor({ timeout: 1000 });
  const took = Date.now() - sent;
  assert.ok(took < 1000, `row appeared after ${took} ms`);
  await assert.doesNotReject(row.getByText("Ringing").waitFor({ timeout: 1000 }));
  assert.match(await row.textContent(), /\+91 98765 43210/);
  assert.equal(await page.evaluate(() => window.__noReload), true, "the page was not reloaded");
  // The badge counts it.
  await page
    .getByTestId("nav-live")
    .getByRole("link", { name: /Sales IVR/ })
    .getByText("1")
    .waitFor();
  await shots(page, "10-live-queue");
  await row.dblclick();
  await page.getByTestId("call-drawer").getByText("E2E-1", { exact: true }).waitFor();
  await shots(page, "11-call-detail");
  await page.keyboard.press("Escape");
});

test("a hangup moves the call from the live queue to the Pending worklist, counts follow", async () => {
  const page = state.admin;
  await webhook(state.webhookUrl, state.key, { call_id: "E2E-1", status: "hangup" });
  await page.locator('tr[data-call-id="E2E-1"]').waitFor({ state: "detached", timeout: 2000 });
  const hangupLink = page.getByTestId("nav-hangup").getByRole("link", { name: /Sales IVR/ });
  await hangupLink.getByLabel("1 pending callbacks").waitFor({ timeout: 2000 });
  await hangupLink.click();
  await page.waitForURL(/\/hangup\/sales-ivr/);
  await page.locator('tr[data-call-id="E2E-1"]').waitFor();
  await page.getByTestId("view-pending").getByText("1").waitFor();
  await shots(page, "20-hangup-pending");
  await page.keyboard.press("?");
  await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
  await shots(page, "21-shortcuts");
  await page.keyboard.press("Escape");
});

test("an agent sees only their department and dispositions the call into Resolved", async () => {
  // Set-up an admin would do in Masters (covered by its own screens' tests).
  await api.post("/api/providers", { name: "Billing" });
  await api.post("/api/categories", {
    name: "Sales follow-up",
    department: "sales-ivr",
    sub_categories: ["Sale", "No sale"],
  });
  await api.post("/api/users", {
    username: "asha",
    password: "asha-password-1",
    role: "agent",
    departments: ["sales-ivr"],
    display_name: "Asha",
  });

  const page = await newPage();
  await signIn(page, "asha", "asha-password-1");
  const nav = page.getByTestId("nav-hangup");
  await nav.getByRole("link", { name: /Sales IVR/ }).waitFor();
  assert.equal(await nav.getByRole("link", { name: /Billing/ }).count(), 0, "agents do not see other departments");
  assert.equal(await page.getByRole("link", { name: "Providers" }).count(), 0, "agents have no Masters");
  await nav.getByRole("link", { name: /Sales IVR/ }).click();
  const row = page.locator('tr[data-call-id="E2E-1"]');
  await row.click();
  await page.keyboard.press("a");
  await page.getByTestId("view-assigned").getByText("1").waitFor();
  await page.getByTestId("view-assigned").click();
  await page.locator('tr[data-call-id="E2E-1"]').click();
  await page.keyboard.press("d");
  const form = page.getByTestId("disposition-form");
  await form.waitFor();
  // Saving without a category says what is missing.
  await form.getByRole("button", { name: "Save disposition" }).click();
  await form.getByText("Choose a category.").waitFor();
  await form.getByLabel("Category", { exact: true }).selectOption("Sales follow-up");
  await form.getByLabel("Sub-category").selectOption("Sale");
  await form.getByLabel("Notes").fill("Called back, order placed");
  await shots(page, "30-disposition");
  await form.getByRole("button", { name: "Save disposition" }).click();
  await page.getByTestId("disposition-history").getByText("Called back, order placed").waitFor();
  await page.keyboard.press("Escape");
  await page.getByTestId("view-resolved").click();
  await page.locator('tr[data-call-id="E2E-1"]').waitFor();
  await page.getByTestId("view-resolved").getByText("1").waitFor();
  await page.getByTestId("view-pending").getByText("0").waitFor();
  await shots(page, "31-hangup-resolved");
  await page.context().close();
});

test("a provider created, renamed, reordered or deactivated elsewhere changes every open console's sidebar", async () => {
  const page = state.admin;
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByTestId("card-totalToday").waitFor();
  const other = await newPage();
  await signIn(other, "admin", srv.password);
  await other.getByRole("link", { name: "Providers" }).click();
  await other.getByRole("button", { name: "Add provider" }).click();
  await other.getByLabel("Name", { exact: true }).fill("Support Desk");
  await other.getByRole("button", { name: "Create provider" }).click();
  await other.getByRole("button", { name: "Done" }).click();
  const nav = page.getByTestId("nav-live");
  await nav.getByRole("link", { name: /Support Desk/ }).waitFor({ timeout: 2000 });
  // Renamed and moved to the top elsewhere: it moves here too.
  await api.patch("/api/providers/support-desk", { name: "Helpdesk", display_order: 1 });
  await nav.getByRole("link", { name: /Helpdesk/ }).waitFor({ timeout: 2000 });
  const order = await nav.getByRole("link").allTextContents();
  assert.match(order[1] ?? "", /Helpdesk/, `Helpdesk follows All: ${order.join(" | ")}`);
  await shots(page, "40-dashboard");
  // Deactivated elsewhere: it leaves the sidebar.
  await api.del("/api/providers/support-desk");
  await nav.getByRole("link", { name: /Helpdesk/ }).waitFor({ state: "detached", timeout: 2000 });
  await other.context().close();
});

test("an admin adds Exotel from its preset and a real Passthru callback lands in the worklist", async () => {
  const page = state.admin;
  await page.goto(`${srv.url}/masters/providers`);
  await page.getByRole("button", { name: "Add from preset" }).click();
  const dialog = page.getByRole("dialog", { name: "Add provider from preset" });
  await dialog.getByRole("radio", { name: "Exotel" }).check();
  await dialog.getByTestId("preset-notes").waitFor();
  await dialog.getByLabel("Name").fill("Exotel Support");
  await dialog.getByRole("button", { name: "Create from preset" }).click();
  const platformUrl = (await page.getByTestId("platform-url").textContent()).trim();
  assert.match(platformUrl, /\/webhooks\/ivr\/exotel-support\?token=cbk_/);
  await shots(page, "08-preset-created");
  await page.getByRole("button", { name: "Done" }).click();
  await page.getByTestId("auth-scheme").filter({ hasText: "query_token" }).waitFor();
  // A zero-minute callback SLA: the missed caller is overdue at once.
  await api.patch("/api/providers/exotel-support", { sla_minutes: 0 });
  // Exotel's Passthru applet: a GET with the call in query parameters.
  const u = new URL(platformUrl);
  for (const [k, v] of Object.entries({
    CallSid: "exo-1",
    CallFrom: "09876543210",
    CallTo: "08030752400",
    Direction: "incoming",
    StartTime: "2024-05-26 13:00:21",
    CallType: "client-hangup",
  }))
    u.searchParams.set(k, v);
  const res = await fetch(u);
  assert.equal(res.status, 200, await res.text());
  await page
    .getByTestId("nav-hangup")
    .getByRole("link", { name: /Exotel Support/ })
    .click();
  const row = page.locator('tr[data-call-id="exo-1"]');
  await row.waitFor();
  assert.match(await row.textContent(), /\+91 98765 43210/);
  await row.getByTestId("sla-breached").waitFor();
  // The dashboard counts the breach, overall and for the department.
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page
    .getByTestId("card-slaBreached")
    .filter({ hasText: /SLA breaches\s*1$/ })
    .waitFor();
  await page.locator('tr[data-slug="exotel-support"] td.sla-breach').first().waitFor();
});

test("an admin maps Dialpad users one by one and from a CRM export", async () => {
  const page = state.admin;
  await page.goto(`${srv.url}/masters/dialpad-users`);
  await page.getByLabel("Dialpad user id", { exact: true }).fill("5550001");
  await page.getByLabel("Callboard user").selectOption({ label: "Asha (asha)" });
  await page.getByRole("button", { name: "Save mapping" }).click();
  const table = page.getByTestId("dialpad-users");
  await table.getByRole("row", { name: /5550001.*Asha/ }).waitFor();
  // A bad line changes nothing and says which line.
  await page.getByLabel(/Lines of/).fill("5550002, admin\noops");
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByRole("alert").filter({ hasText: "Line 2" }).waitFor();
  await page.getByLabel(/Lines of/).fill("5550002, admin\n5550001, asha");
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByRole("status").filter({ hasText: "Created 1, updated 0, unchanged 1" }).waitFor();
  await table.getByRole("row", { name: /5550002/ }).waitFor();
  await shots(page, "62-dialpad-users");
});

test("a Convoso provider's API poller is set up from its page, the token never shown again", async () => {
  const page = state.admin;
  const p = await api.post("/api/providers", { name: "Convoso Sales", preset: "convoso" });
  await page.goto(`${srv.url}/masters/providers/${p.slug}`);
  const card = page.getByTestId("connector");
  await card.getByLabel("API address").fill("http://127.0.0.1:9/v1");
  await card.getByRole("button", { name: "Set up the poller" }).click();
  await card.getByRole("alert").filter({ hasText: "API auth token" }).waitFor();
  await card.getByLabel("API auth token").fill("convoso-secret-token");
  await card.getByRole("button", { name: "Set up the poller" }).click();
  await card.getByTestId("connector-health").filter({ hasText: "Circuit Closed" }).waitFor();
  await page.reload();
  await card.getByRole("button", { name: "Save poller" }).waitFor();
  assert.equal(await card.getByLabel("API auth token").inputValue(), "", "the stored token is not sent back");
  assert.ok(!(await page.content()).includes("convoso-secret-token"));
  await shots(page, "63-convoso-poller");
});

test("the wallboard shows large numbers and no controls", async () => {
  const page = state.admin;
  await page.goto(`${srv.url}/dashboard?wallboard=1`);
  await page.getByTestId("wallboard").waitFor();
  assert.equal(await page.getByRole("button").count(), 0, "no controls on a wallboard");
  await shots(page, "50-wallboard");
});

test("masters screens render for the record", async () => {
  const page = state.admin;
  await page.goto(`${srv.url}/masters/categories`);
  await page.getByRole("button", { name: "Add category" }).waitFor();
  await shots(page, "60-masters-categories");
  await page.goto(`${srv.url}/masters/users`);
  await page.getByRole("button", { name: "Add user" }).waitFor();
  await shots(page, "61-masters-users");
});

test("every screen is labelled and readable (axe: no serious or critical violations), light and dark", async () => {
  const page = state.admin;
  const found = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const path of [
      "/live/all",
      "/live/sales-ivr",
      "/hangup/sales-ivr",
      "/dashboard",
      "/dashboard?wallboard=1",
      "/masters/providers",
      "/masters/categories",
      "/masters/users",
      "/masters/dialpad-users",
      "/masters/providers/convoso-sales",
    ]) {
      await page.goto(`${srv.url}${path}`);
      await page.getByTestId("connection").first().waitFor();
      await page.waitForTimeout(300);
      for (const v of await axeViolations(page)) found.push({ scheme, path, ...v });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  assert.deepEqual(found, []);
});

test("signing out forgets the session, also after a reload", async () => {
  const page = state.admin;
  await page.goto(`${srv.url}/dashboard`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal(await page.getByTestId("whoami").count(), 0);
  assert.equal(await page.evaluate(() => localStorage.getItem("callboard.token")), null);
});
