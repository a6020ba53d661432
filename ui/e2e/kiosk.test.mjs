// A wallboard on a TV by a kiosk link: an admin makes a wallboard token in
// Access, the TV opens the link with no sign-in, the figures follow the calls,
// the page never asks for a call or the stream, and revoking the token blanks
// the TV with a message. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, axeAtBothSizes, launchBrowser, shots, signedIn, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let key;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const p = await api.post("/api/providers", {
    name: "Front Desk",
    field_mapping: { call_id: "call_id", mobile_number: "caller", status: "status" },
    status_map: { ringing: "ringing", "no-answer": "missed" },
  });
  key = p.api_key;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const hook = (body) => webhook(`${srv.url}/webhooks/ivr/front-desk`, key, body);

test("a kiosk link shows the wallboard without signing in, follows the calls, and dies when revoked", async () => {
  // The admin makes the token and gets the link.
  const admin = await signedIn(browser, srv.url, "admin", srv.password);
  await admin.getByRole("link", { name: "Access" }).click();
  await admin.getByRole("button", { name: "New integration token" }).click();
  const dialog = admin.getByRole("dialog", { name: "New integration token" });
  await dialog.getByLabel("Name").fill("Floor TV");
  await dialog.getByLabel(/^Calls:/).uncheck();
  await dialog.getByLabel(/^Wallboard:/).check();
  await dialog.getByRole("button", { name: "Create token" }).click();
  const link = await admin.getByLabel("The kiosk link").inputValue();
  assert.match(link, new RegExp(`^${srv.url}/dashboard\\?wallboard=1&kiosk=cbi_`));
  await shots(admin, "kiosk-01-link");
  await admin.getByRole("button", { name: "Done" }).click();
  await admin.getByTestId("token-row").filter({ hasText: "Floor TV" }).filter({ hasText: "Wallboard" }).waitFor();

  // The TV: a browser nobody signed in to.
  const tvCtx = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const tv = await tvCtx.newPage();
  const asked = [];
  tv.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/api/")) asked.push(u.pathname);
  });
  await tv.goto(link);
  await tv.getByTestId("wallboard").waitFor();
  await tv
    .getByTestId("kiosk-updated")
    .filter({ hasText: /^Updated \d\d:\d\d/ })
    .waitFor();
  await tv.getByRole("row").filter({ hasText: "Front Desk" }).waitFor();
  assert.equal(await tv.getByLabel("User name").count(), 0, "no sign-in");
  assert.equal(await tv.getByTestId("card-waiting").locator(".value").innerText(), "0");

  // Calls arrive: the figures follow within the 5 s poll.
  await hook({ call_id: "k-1", caller: "+919800000001", status: "ringing" });
  await hook({ call_id: "k-2", caller: "+919800000002", status: "no-answer" });
  await tv.getByTestId("card-waiting").locator(".value").filter({ hasText: /^1$/ }).waitFor({ timeout: 12_000 });
  await tv.getByTestId("card-missed").locator(".value").filter({ hasText: /^1$/ }).waitFor({ timeout: 12_000 });
  assert.equal(await tv.getByText("+91 98000 00001").count(), 0, "no caller on a TV");
  await shots(tv, "kiosk-02-wallboard");
  assert.deepEqual(await axeAtBothSizes(tv), []);
  await tv.setViewportSize({ width: 1920, height: 1080 });

  // Only aggregates were asked for: no call, no stream, no session.
  const paths = new Set(asked);
  for (const p of paths) {
    assert.ok(["/api/stats", "/api/providers", "/api/thresholds/state"].includes(p), `the kiosk asked for ${p}`);
  }
  assert.ok(paths.has("/api/stats"));

  // Revoked: the TV says so across the whole screen, not old numbers.
  const { data } = await api.get("/api/integration-tokens");
  const tvToken = data.find((t) => t.name === "Floor TV");
  await api.del(`/api/integration-tokens/${tvToken.id}`);
  const stale = tv.getByTestId("kiosk-stale");
  await stale.waitFor({ timeout: 12_000 });
  assert.match(await stale.innerText(), /This wallboard link no longer works \(revoked or expired\)/);
  await shots(tv, "kiosk-03-revoked");
  await tvCtx.close();
  await admin.context().close();
});
