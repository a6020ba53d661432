// The printed first-start password signs in to one screen only: choosing a
// password of one's own. Nothing else of the console (or the API) opens
// until then. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { axeAtBothSizes, launchBrowser, shots, startServer } from "./harness.mjs";

let srv;
let browser;

before(async () => {
  srv = await startServer(undefined, {}, { printed: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function signIn(page, password) {
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("the printed password leads to choosing one's own, and nothing else opens before", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/live`);
  await signIn(page, srv.password);
  const heading = page.getByRole("heading", { name: "Choose your own password" });
  await heading.waitFor();
  assert.equal(await page.getByTestId("whoami").count(), 0, "no console behind it");
  assert.match(await page.getByTestId("first-password-why").innerText(), /Signed in as admin/);
  await shots(page, "first-password");
  assert.deepEqual(await axeAtBothSizes(page), []);
  await page.setViewportSize({ width: 1366, height: 800 });

  // The API says the same to this session, whatever the page shows.
  const refused = await page.evaluate(async () => {
    const r = await fetch("/api/calls");
    return { status: r.status, body: await r.json() };
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "password_change_required");
  // A reload keeps it there.
  await page.reload();
  await heading.waitFor();

  const fill = async (current, next, repeat) => {
    await page.getByLabel("Password you signed in with").fill(current);
    await page.getByLabel("New password (at least 8 characters)").fill(next);
    await page.getByLabel("New password again").fill(repeat);
    await page.getByRole("button", { name: "Save and continue" }).click();
  };
  await fill(srv.password, "only-mine-123", "only-mine-124");
  assert.match(await page.getByRole("alert").innerText(), /differ/);
  await fill("not-the-printed-one", "only-mine-123", "only-mine-123");
  await page.getByRole("alert").filter({ hasText: "not the password you signed in with" }).waitFor();
  await fill(srv.password, "only-mine-123", "only-mine-123");
  await page.getByTestId("whoami").waitFor();
  assert.equal(await heading.count(), 0);

  // Signed out: the printed password is gone, the new one opens the console.
  await page.getByRole("button", { name: "Sign out" }).click();
  // Signed out first (a navigation right after the click could cancel the
  // sign-out request before it leaves).
  await page.getByLabel("User name").waitFor();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").waitFor();
  await signIn(page, srv.password);
  await page
    .getByRole("alert")
    .filter({ hasText: /user name and password do not match/i })
    .waitFor();
  await signIn(page, "only-mine-123");
  await page.getByTestId("whoami").waitFor();
  await ctx.close();
});
