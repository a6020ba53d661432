// A rendering fault in one screen shows a message and Retry in that screen;
// the sidebar stays, and Retry brings the screen back once the fault is
// gone. The fault is real: the browser's date formatter is made to throw
// while the worklist renders its rows. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeViolations, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  const api = adminApi(srv.url);
  const created = await api.post("/api/providers", {
    name: "Desk",
    field_mapping: { call_id: "call_id", status: "status" },
    status_map: { hangup: "hangup" },
  });
  await webhook(`${srv.url}/webhooks/ivr/desk`, created.api_key, { call_id: "B-1", status: "hangup" });
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test("a screen that fails to render shows Retry, not a blank console", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  await ctx.addInitScript(() => {
    const proto = Intl.DateTimeFormat.prototype;
    const real = Object.getOwnPropertyDescriptor(proto, "format");
    window.__breakDates = false;
    Object.defineProperty(proto, "format", {
      configurable: true,
      get() {
        if (window.__breakDates)
          return () => {
            throw new Error("dates cannot be formatted (injected by the test)");
          };
        return real.get.call(this);
      },
    });
  });
  const page = await ctx.newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").waitFor();
  await page.evaluate(() => (window.__breakDates = true));
  await page.getByTestId("nav-hangup").getByRole("link", { name: /Desk/ }).click();
  const error = page.getByTestId("screen-error");
  await error.getByText("This screen could not be shown.").waitFor();
  await error.getByText(/dates cannot be formatted/).waitFor();
  // The rest of the console is still there and usable.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).waitFor();
  await shots(page, "b10-screen-error");
  const found = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(100);
    for (const v of await axeViolations(page)) found.push({ scheme, ...v, nodes: v.nodes.join(" | ") });
  }
  await page.emulateMedia({ colorScheme: "light" });
  assert.deepEqual(found, [], "the error message is readable in both themes");
  await page.evaluate(() => (window.__breakDates = false));
  await error.getByRole("button", { name: "Retry" }).click();
  await page.locator('tr[data-call-id="B-1"]').waitFor();
  assert.equal(await page.getByTestId("screen-error").count(), 0);
  // Another screen is not affected by a fault in the last one.
  await page.evaluate(() => (window.__breakDates = true));
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByTestId("card-totalToday").waitFor();
  await ctx.close();
});
