// The worklist keeps the call a person acted on: after Assign to me the
// selection stays on that caller (it no longer slides to the next row), the
// next Disposition opens the same caller, and "Assigned to you · Undo" gives
// the call back. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeAtBothSizes, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let page;
const state = {};

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const created = await api.post("/api/providers", {
    name: "Care Line",
    field_mapping: { call_id: "call_id", status: "status", mobile_number: "from" },
    status_map: { hangup: "hangup" },
  });
  state.key = created.api_key;
  state.webhookUrl = `${srv.url}/webhooks/ivr/care-line`;
  await api.post("/api/users", {
    username: "asha",
    password: "asha-password-1",
    role: "agent",
    departments: ["care-line"],
    display_name: "Asha",
  });
  for (const n of [1, 2, 3, 4]) {
    await webhook(state.webhookUrl, state.key, { call_id: `W-${n}`, status: "hangup", from: `+91980000000${n}` });
  }
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("asha");
  await page.getByLabel("Password").fill("asha-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const selectedRow = () => page.locator('tr[aria-selected="true"]');

async function callOf(id) {
  return api.get(`/api/calls/${id}?department=care-line`);
}

test("after Assign to me (key a) the selection stays on the acted-on call, and d opens that caller", async () => {
  await page.goto(`${srv.url}/hangup/care-line`);
  await page.getByTestId("view-pending").getByText("4").waitFor();
  const second = page.locator("tbody tr[data-call-id]").nth(1);
  const id = await second.getAttribute("data-call-id");
  await second.click();
  await page.keyboard.press("a");
  // The call left Pending on the server (the counts say so) …
  await page.getByTestId("view-pending").getByText("3").waitFor();
  await page.getByTestId("view-assigned").getByText("1").waitFor();
  await page.waitForTimeout(400);
  // … and stays on screen, selected, showing who has it now.
  assert.equal(await selectedRow().getAttribute("data-call-id"), id, "still selected after the list refetched");
  await selectedRow().filter({ hasText: "Asha" }).waitFor();
  await page.getByTestId("assign-done").getByText("Assigned to you").waitFor();
  await shots(page, "w10-assigned-undo");
  await page.keyboard.press("d");
  const drawer = page.getByTestId("call-drawer");
  await drawer.getByText(id, { exact: true }).waitFor();
  await page.getByTestId("disposition-form").waitFor();
  await page.keyboard.press("Escape");
  await drawer.waitFor({ state: "detached" });
  assert.equal((await callOf(id)).work_state, "assigned");
  state.id = id;
});

test("Undo gives the call back and keeps it selected", async () => {
  const id = state.id;
  await page.getByTestId("assign-done").getByRole("button", { name: "Undo" }).click();
  await page.getByTestId("assign-done").waitFor({ state: "detached" });
  await page.getByTestId("view-pending").getByText("4").waitFor();
  const call = await callOf(id);
  assert.equal(call.work_state, "pending");
  assert.equal(call.assignee_id ?? null, null);
  assert.equal(await selectedRow().getAttribute("data-call-id"), id);
});

test("the Assign to me button keeps the selection too; moving on lets the call go", async () => {
  const third = page.locator("tbody tr[data-call-id]").nth(2);
  const id = await third.getAttribute("data-call-id");
  await third.click();
  await page.getByRole("button", { name: /Assign to me/ }).click();
  await page.getByTestId("assign-done").getByText("Assigned to you").waitFor();
  await page.getByTestId("view-pending").getByText("3").waitFor();
  await selectedRow().filter({ hasText: "Asha" }).waitFor();
  assert.equal(await selectedRow().getAttribute("data-call-id"), id);
  // Choosing another row ends it: the assigned call leaves the Pending view.
  await page.locator("tbody tr[data-call-id]").first().click();
  await page.locator(`tr[data-call-id="${id}"]`).waitFor({ state: "detached" });
  assert.equal(await page.getByTestId("assign-done").count(), 0);
});

test("Download this view saves the calls the worklist shows, and nothing else", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 }, acceptDownloads: true });
  const p = await ctx.newPage();
  await p.goto(`${srv.url}/`);
  await p.getByLabel("User name").fill("asha");
  await p.getByLabel("Password").fill("asha-password-1");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByTestId("whoami").waitFor();
  for (const n of [8, 9]) {
    await webhook(state.webhookUrl, state.key, { call_id: `W-${n}`, status: "hangup", from: `+91980000000${n}` });
  }
  await p.goto(`${srv.url}/hangup/care-line?view=pending`);
  await p.locator("tbody tr[data-call-id]").first().waitFor();
  const shown = (
    await p.locator("tbody tr[data-call-id]").evaluateAll((rows) => rows.map((r) => r.dataset.callId))
  ).sort();
  const [dl] = await Promise.all([
    p.waitForEvent("download"),
    p.getByRole("button", { name: "Download this view (CSV)" }).click(),
  ]);
  const { readFileSync } = await import("node:fs");
  const lines = readFileSync(await dl.path(), "utf8")
    .replace(/^\uFEFF/, "")
    .trimEnd()
    .split("\r\n");
  assert.ok(lines[0].startsWith("call_id,department,status,"), lines[0]);
  const saved = lines
    .slice(1)
    .map((l) => l.split(",")[0])
    .sort();
  assert.deepEqual(saved, shown, "the file holds the rows of this view");
  await ctx.close();
});

test("the worklist with its confirmation passes axe, light and dark, at 1366×800 and 390×844", async () => {
  const row = page.locator("tbody tr[data-call-id]").first();
  await row.click();
  await page.keyboard.press("a");
  await page.getByTestId("assign-done").waitFor();
  assert.deepEqual(await axeAtBothSizes(page, { settleMs: 100 }), []);
});
