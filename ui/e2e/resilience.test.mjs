// The console when the server goes away and comes back, and with a big queue.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

const MAPPING = {
  field_mapping: { call_id: "data.call_id", mobile_number: "data.caller", status: "data.status" },
  status_map: { ringing: "ringing", answered: "active", "no-answer": "missed", completed: "completed" },
};

let srv;
let browser;
let page;
let provider;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  provider = await adminApi(srv.url).post("/api/providers", { name: "Front Desk", ...MAPPING });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  page = await ctx.newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").waitFor();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const hook = (id, status, p = provider) =>
  webhook(p.webhook_url.replace("localhost", "127.0.0.1"), p.api_key, {
    data: { call_id: id, caller: "+919812345678", status },
  });

test("when the server dies the console says so, and catches up when it is back", async () => {
  await page.goto(`${srv.url}/live/front-desk`);
  const conn = page.getByTestId("connection");
  await conn.filter({ hasText: "Live" }).waitFor();
  await hook("R-1", "ringing");
  await page.locator('tr[data-call-id="R-1"]').waitFor();

  await srv.kill();
  await conn.filter({ hasText: /Reconnecting|Offline/ }).waitFor({ timeout: 5000 });
  await conn.filter({ hasText: /Offline since \d\d:\d\d/ }).waitFor({ timeout: 15_000 });
  // The last known state stays on screen.
  assert.equal(await page.locator('tr[data-call-id="R-1"]').count(), 1);
  await shots(page, "70-offline");

  srv = await startServer(srv);
  // Events that happen before the console reconnects are not missed.
  await hook("R-1", "answered");
  await hook("R-2", "ringing");
  await conn.filter({ hasText: "Live" }).waitFor({ timeout: 40_000 });
  await page.locator('tr[data-call-id="R-2"]').waitFor({ timeout: 5000 });
  await page.locator('tr[data-call-id="R-1"]').getByText("Active").waitFor({ timeout: 5000 });
});

test("the live queue stays usable with 10,000 calls (rows are virtualised)", async () => {
  const total = 10_000;
  const bulk = await adminApi(srv.url).post("/api/providers", { name: "Bulk", ...MAPPING });
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      await hook(`BULK-${String(i).padStart(5, "0")}`, "ringing", bulk);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  await page.goto(`${srv.url}/live/bulk`);
  await page
    .getByTestId("live-count")
    .filter({ hasText: /^10000 of 10000 calls$/ })
    .waitFor({ timeout: 30_000 });
  const rendered = await page.locator("tr[data-call-id]").count();
  assert.ok(rendered > 5 && rendered < 120, `only the rows on screen are in the DOM (${rendered})`);
  // Keyboard to the end: the last row is reachable and shown.
  await page.getByTestId("grid").focus();
  await page.keyboard.press("End");
  await page.locator('tr[aria-selected="true"]').waitFor();
  const index = await page.locator('tr[aria-selected="true"]').getAttribute("aria-rowindex");
  assert.equal(index, "10000");
  // Search narrows ten thousand rows at once.
  await page.getByLabel("Search").fill("BULK-09999");
  await page
    .getByTestId("live-count")
    .filter({ hasText: /^1 of 10000 calls$/ })
    .waitFor();
  await shots(page, "71-live-10k");
});

test("a worklist longer than a page loads the rest on demand", async () => {
  const many = await adminApi(srv.url).post("/api/providers", { name: "Overflow", ...MAPPING });
  let next = 0;
  const worker = async () => {
    while (next < 600) {
      const i = next++;
      await hook(`OV-${i}`, "no-answer", many);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await page.goto(`${srv.url}/hangup/overflow`);
  const shown = page.getByTestId("worklist-shown");
  await shown.filter({ hasText: /^500 of 600 shown$/ }).waitFor();
  await page.getByTestId("view-pending").filter({ hasText: "600" }).waitFor();
  await page.getByRole("button", { name: "Show more" }).click();
  await shown.filter({ hasText: /^600 of 600 shown$/ }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Show more" }).count(), 0, "nothing more to load");
});
