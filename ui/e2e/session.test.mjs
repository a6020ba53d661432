// The console's session lives in an HttpOnly cookie: the page's script never
// holds it, a reload keeps it, and when it runs out the console says so on
// the sign-in page. Real server (with a 10-second session), real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, shots, startServer } from "./harness.mjs";

const SESSION_SECONDS = 10;

let srv;
let browser;

before(async () => {
  srv = await startServer(undefined, {
    CALLBOARD_SESSION_IDLE: String(SESSION_SECONDS),
    CALLBOARD_SESSION_MAX: String(SESSION_SECONDS),
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test("the session is a cookie script cannot read; a reload keeps it; when it ends the console says so", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(srv.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
  const signedInAt = Date.now();

  const [cookie] = (await ctx.cookies()).filter((c) => c.name === "callboard_session");
  assert.ok(cookie, "the session cookie is set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(await page.evaluate(() => document.cookie.includes("callboard_session")), false);
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [], "nothing kept in storage");

  // A reload is still signed in, and a change (which needs the CSRF token
  // learnt again from /api/auth/me) still goes through.
  await page.reload();
  await page.getByTestId("whoami").waitFor();
  await page.goto(`${srv.url}/masters/categories`);
  await page.getByRole("button", { name: "Add category" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Name", { exact: true }).fill("Cookie check");
  await dialog.getByRole("button", { name: "Create category" }).click();
  await page.getByTestId("category-row").filter({ hasText: "Cookie check" }).waitFor();

  // Out of time: the next request is refused and the sign-in page says why.
  const left = SESSION_SECONDS * 1000 - (Date.now() - signedInAt);
  await page.waitForTimeout(Math.max(0, left) + 1500);
  // The console's own requests may have met the end already; if not, a
  // screen not yet loaded does (no reload: the notice lives in the page).
  if (await page.getByTestId("whoami").isVisible()) {
    await page.getByRole("link", { name: "Call history" }).click();
  }
  const notice = page.getByTestId("signed-out-notice");
  await notice.waitFor();
  assert.match(await notice.innerText(), /signed out/i);
  await shots(page, "session-ended");
  assert.equal(
    (await ctx.cookies()).filter((c) => c.name === "callboard_session").length,
    0,
    "the dead cookie is gone",
  );

  // Signing in again works and the notice goes.
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(srv.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
  assert.equal(await notice.count(), 0);
  await ctx.close();
});
