// On a phone (390×844) the menu folds into a bar above the screen, which
// gets the whole width; the menu opens, takes a choice and closes again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeViolations, launchBrowser, shots, startServer } from "./harness.mjs";

let srv;
let browser;
let page;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  await adminApi(srv.url).post("/api/providers", { name: "Sales" });
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  page = await ctx.newPage();
  await page.goto(srv.loginLink);
  // The name in the top bar is hidden at this width: wait for the screen.
  await page.locator(".main").first().waitFor();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test("the screen gets the phone's width and the menu folds away", async () => {
  const main = page.locator(".main").first();
  await main.waitFor();
  const box = await main.boundingBox();
  assert.ok(box && box.width >= 380, `the screen is ${box?.width} px wide on a 390 px phone`);
  const history = page.getByRole("link", { name: "Call history" });
  assert.equal(await history.isVisible(), false, "the menu is folded");
  const toggle = page.getByRole("button", { name: "Menu" });
  assert.equal(await toggle.getAttribute("aria-expanded"), "false");
  await toggle.click();
  await history.waitFor();
  assert.equal(await page.getByRole("button", { name: "Close menu" }).getAttribute("aria-expanded"), "true");
  await shots(page, "phone-menu");
  assert.deepEqual(await axeViolations(page), []);
  await history.click();
  await page.waitForURL(/\/history/);
  await page.getByRole("button", { name: "Menu" }).waitFor();
  assert.equal(await history.isVisible(), false, "a choice closes the menu");
  const wide = await page.locator(".main").first().boundingBox();
  assert.ok(wide && wide.width >= 380, `history is ${wide?.width} px wide`);
  // Nothing of the top bar is cut off: it wraps instead.
  const signOut = await page.getByRole("button", { name: "Sign out" }).boundingBox();
  assert.ok(signOut && signOut.x + signOut.width <= 390, `Sign out ends at ${signOut && signOut.x + signOut.width} px`);
});
