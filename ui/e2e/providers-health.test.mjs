// The provider list shows when each provider last delivered and its error
// rate over the last 24 hours; refused deliveries count. Real server, real
// Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeViolations, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test("last delivery and the 24-hour error rate per provider", async () => {
  const busy = await api.post("/api/providers", {
    name: "Busy Line",
    field_mapping: { call_id: "call_id", status: "status" },
    status_map: { ringing: "ringing" },
  });
  await api.post("/api/providers", { name: "Quiet Line" });
  const url = `${srv.url}/webhooks/ivr/busy-line`;
  for (const id of ["P-1", "P-2", "P-3"]) await webhook(url, busy.api_key, { call_id: id, status: "ringing" });
  const refused = await fetch(url, {
    method: "POST",
    headers: { "x-api-key": busy.api_key, "content-type": "application/json" },
    body: "{not json",
  });
  assert.equal(refused.status, 400);

  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").waitFor();
  await page.getByRole("link", { name: "Providers" }).click();
  const busyRow = page.getByTestId("provider-row").filter({ hasText: "Busy Line" });
  await busyRow
    .getByTestId("last-delivery")
    .filter({ hasText: /just now|1 min ago/ })
    .waitFor();
  await busyRow.getByTestId("error-rate").filter({ hasText: "25 % (1 of 4)" }).waitFor({ timeout: 5000 });
  const quietRow = page.getByTestId("provider-row").filter({ hasText: "Quiet Line" });
  assert.equal(await quietRow.getByTestId("last-delivery").textContent(), "never");
  assert.equal(await quietRow.getByTestId("error-rate").textContent(), "—");
  await shots(page, "p10-providers-health");
  const found = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(150);
    for (const v of await axeViolations(page)) found.push({ scheme, ...v, nodes: v.nodes.join(" | ") });
  }
  assert.deepEqual(found, []);
  await ctx.close();
});
