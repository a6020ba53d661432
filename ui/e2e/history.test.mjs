// Call history end to end: every call, searchable by number, dates,
// department, status, agent and disposition, with the filters in the
// address (a reload keeps them); repeat callers flagged; the drawer lists
// the caller's previous calls. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeAtBothSizes, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let page;

const MAPPING = { call_id: "call_id", status: "status", agent_id: "agent", mobile_number: "from", caller_name: "name" };
const STATUS_MAP = { completed: "completed", "no-answer": "missed" };

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const keys = {};
  for (const name of ["North Desk", "South Desk"]) {
    const p = await api.post("/api/providers", { name, field_mapping: MAPPING, status_map: STATUS_MAP });
    keys[p.slug] = p.api_key;
  }
  const send = (slug, body) => webhook(`${srv.url}/webhooks/ivr/${slug}`, keys[slug], body);
  await send("north-desk", {
    call_id: "N-1",
    status: "completed",
    from: "+919800000001",
    name: "Asha Rao",
    agent: "asha",
  });
  await send("north-desk", { call_id: "N-2", status: "no-answer", from: "+919800000001", name: "Asha Rao" });
  await send("north-desk", { call_id: "N-3", status: "completed", from: "+919800000002", agent: "ravi" });
  await send("south-desk", { call_id: "S-1", status: "no-answer", from: "+919800000003" });
  await api.post("/api/calls/N-2/disposition?department=north-desk", { category: "Not reachable", outcome: "busy" });
  await api.post("/api/users", {
    username: "meera",
    password: "meera-password-1",
    role: "agent",
    departments: ["north-desk"],
  });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  page = await ctx.newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").waitFor();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const rows = () => page.locator("tbody tr[data-call-id]");
async function shown() {
  await page
    .getByTestId("history-count")
    .filter({ hasText: /calls? / })
    .waitFor();
  return (await rows().evaluateAll((trs) => trs.map((t) => t.getAttribute("data-call-id")))).sort();
}
async function search(fill) {
  const form = page.getByRole("search", { name: "Filter calls" });
  await fill(form);
  await form.getByRole("button", { name: "Search" }).click();
}

test("every call is listed, newest first, with repeat callers flagged", async () => {
  await page.getByRole("link", { name: "Call history" }).click();
  await page.getByRole("heading", { name: "Call history" }).waitFor();
  await page.getByTestId("history-count").filter({ hasText: "4 calls" }).waitFor();
  assert.deepEqual(await shown(), ["N-1", "N-2", "N-3", "S-1"]);
  assert.equal(await rows().first().getAttribute("data-call-id"), "S-1", "newest first");
  for (const id of ["N-1", "N-2"])
    assert.equal(await page.locator(`tr[data-call-id="${id}"]`).getByTestId("repeat-caller").count(), 1, id);
  for (const id of ["N-3", "S-1"])
    assert.equal(await page.locator(`tr[data-call-id="${id}"]`).getByTestId("repeat-caller").count(), 0, id);
  await shots(page, "h10-history");
});

test("a number search is kept in the address and survives a reload", async () => {
  await search((f) => f.getByLabel("Number, name or call id").fill("00001"));
  await page.waitForURL(/[?&]q=00001/);
  await page.getByTestId("history-count").filter({ hasText: "2 calls matching 1 filter" }).waitFor();
  assert.deepEqual(await shown(), ["N-1", "N-2"]);
  await page.reload();
  await page.getByTestId("history-count").filter({ hasText: "2 calls matching 1 filter" }).waitFor();
  assert.deepEqual(await shown(), ["N-1", "N-2"]);
  assert.equal(await page.getByLabel("Number, name or call id").inputValue(), "00001");
});

test("status, agent, department and disposition filter the list; Clear shows everything", async () => {
  await search(async (f) => {
    await f.getByLabel("Number, name or call id").fill("");
    await f.getByLabel("Status").selectOption("completed");
    await f.getByLabel("Agent").fill("ASHA");
  });
  await page.waitForURL(/status=completed/);
  await page.getByTestId("history-count").filter({ hasText: "1 call matching 2 filters" }).waitFor();
  assert.deepEqual(await shown(), ["N-1"]);
  assert.match(page.url(), /agent=ASHA/);
  await search(async (f) => {
    await f.getByLabel("Status").selectOption("");
    await f.getByLabel("Agent").fill("");
    await f.getByLabel("Disposition").selectOption("busy");
  });
  // The count names the new filters at once, beside the previous page (kept
  // while the next loads): wait for the new row too.
  await page.locator('tbody tr[data-call-id="N-2"]').waitFor();
  await page.getByTestId("history-count").filter({ hasText: "1 call matching 1 filter" }).waitFor();
  assert.deepEqual(await shown(), ["N-2"]);
  await search(async (f) => {
    await f.getByLabel("Disposition").selectOption("");
    await f.getByLabel("Department").selectOption("south-desk");
  });
  // The count reads as it did for the disposition filter: wait for the new row,
  // not the count, or the previous page (kept while the next loads) is read.
  await page.locator('tbody tr[data-call-id="S-1"]').waitFor();
  await page.getByTestId("history-count").filter({ hasText: "1 call matching 1 filter" }).waitFor();
  assert.deepEqual(await shown(), ["S-1"]);
  await page.getByRole("button", { name: "Clear" }).click();
  await page
    .getByTestId("history-count")
    .filter({ hasText: /^4 calls · / })
    .waitFor();
  assert.equal(new URL(page.url()).search, "", "no filter left in the address");
});

test("a date range: a past month has none, today has all", async () => {
  await search(async (f) => {
    await f.getByLabel("From").fill("2020-01-01");
    await f.getByLabel("To").fill("2020-01-31");
  });
  await page.getByText("No call matches these filters.").waitFor();
  const d = new Date();
  const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  await search(async (f) => {
    await f.getByLabel("From").fill(today);
    await f.getByLabel("To").fill(today);
  });
  await page.getByTestId("history-count").filter({ hasText: "4 calls matching 2 filters" }).waitFor();
  await page.getByRole("button", { name: "Clear" }).click();
});

test("the drawer shows the caller's previous calls and flags the repeat caller", async () => {
  await page.locator('tr[data-call-id="N-2"]').dblclick();
  const prev = page.getByTestId("call-drawer").getByTestId("previous-calls");
  await prev.getByTestId("repeat-caller").filter({ hasText: "Repeat caller · 1 other call" }).waitFor();
  await prev.locator('li[data-call-id="N-1"]').getByText("Completed").waitFor();
  assert.equal(await prev.locator('li[data-call-id="N-2"]').count(), 0, "not the call itself");
  await shots(page, "h20-history-drawer");
  await page.keyboard.press("Escape");
  await page.locator('tr[data-call-id="N-3"]').dblclick();
  await page.getByTestId("call-drawer").getByText("None: this is the first call from this number.").waitFor();
  await page.keyboard.press("Escape");
});

test("an agent's history holds only their departments' calls", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const p = await ctx.newPage();
  await p.goto(`${srv.url}/`);
  await p.getByLabel("User name").fill("meera");
  await p.getByLabel("Password").fill("meera-password-1");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("link", { name: "Call history" }).click();
  await p.getByTestId("history-count").filter({ hasText: "3 calls" }).waitFor();
  assert.equal(await p.locator('tr[data-call-id="S-1"]').count(), 0);
  await ctx.close();
});

test("the history screen passes axe, light and dark, at 1366×800 and 390×844", async () => {
  assert.deepEqual(
    await axeAtBothSizes(page, {
      prepare: async () => {
        await page.goto(`${srv.url}/history?q=00001`);
        await page.getByTestId("history-count").filter({ hasText: "2 calls" }).waitFor();
      },
      settleMs: 150,
    }),
    [],
  );
});
