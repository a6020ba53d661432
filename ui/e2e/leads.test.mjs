// The call drawer's lead section end to end: a Convoso department, a call
// naming a lead, the lead delivered on the signed lead webhook → the drawer
// shows the lead's name, e-mail and status; a later lead update reaches the
// open drawer over the event stream (`lead.upserted`), without a reload; a
// lead that arrives after its call's drawer was opened appears in it. Real
// server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { adminApi, launchBrowser, shots, startServer } from "./harness.mjs";

let srv;
let browser;
let api;
let page;
let slug;
let secret;

/** POSTs `body` to `path`, signed as Convoso signs (hex HMAC-SHA256 of the body). */
async function signed(path, body, contentType = "application/json") {
  const res = await fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": contentType,
      "x-convoso-signature": createHmac("sha256", secret).update(body).digest("hex"),
    },
    body,
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${path} ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** A call naming `leadId`; its call id (the preset makes a UUID of Convoso's id). */
const call = async (id, leadId) =>
  (
    await signed(
      `/webhooks/ivr/${slug}`,
      JSON.stringify({ id, lead_id: leadId, phone_number: "2125550147", status: "SALE", call_length: 120 }),
    )
  ).call_id;
const callIds = {};
const lead = (fields) => signed(`/webhooks/ivr/${slug}/leads`, JSON.stringify(fields));

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const p = await api.post("/api/providers", { name: "Convoso Sales", preset: "convoso" });
  slug = p.slug;
  secret = p.signing_secret;
  callIds["CV-1"] = await call("CV-1", "88001234");
  // Its lead is delivered only once its drawer is open (the second test).
  callIds["CV-2"] = await call("CV-2", "88005678");
  const ack = await lead({
    id: "88001234",
    status: "NEW",
    status_name: "New Lead",
    first_name: "Grace",
    last_name: "Hopper",
    phone_code: "1",
    phone_number: "2125550147",
    email: "grace.hopper@example.com",
    modified_at: "2026-03-03 09:00:00",
  });
  assert.equal(ack.outcome, "applied");
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  page = await ctx.newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").waitFor();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function openDrawer(callId) {
  await page.getByRole("link", { name: "Call history" }).click();
  await page.getByRole("heading", { name: "Call history" }).waitFor();
  await page.locator(`tr[data-call-id="${callIds[callId]}"]`).dblclick();
  return page.getByTestId("call-drawer");
}

test("the drawer shows the call's lead, and a lead update without a reload", async () => {
  const drawer = await openDrawer("CV-1");
  const section = drawer.getByTestId("lead");
  await section.getByRole("heading", { name: "Lead · Grace Hopper" }).waitFor();
  await section.getByRole("link", { name: "grace.hopper@example.com" }).waitFor();
  await section.getByText("New Lead (NEW)").waitFor();
  await shots(page, "l10-lead-drawer");
  // A reload would lose this mark.
  await page.evaluate(() => (window.__sameDocument = true));
  const ack = await lead({
    lead_id: "88001234",
    status: "SALE",
    status_name: "Sale",
    email: "grace@example.org",
    modified_at: "2026-03-03 10:15:00",
  });
  assert.equal(ack.outcome, "applied");
  await section.getByText("Sale (SALE)").waitFor({ timeout: 5000 });
  await section.getByRole("link", { name: "grace@example.org" }).waitFor();
  assert.equal(await section.getByText("New Lead (NEW)").count(), 0, "the old status is gone");
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload");
  await page.keyboard.press("Escape");
});

test("a lead delivered after its call's drawer was opened appears in it", async () => {
  const drawer = await openDrawer("CV-2");
  await drawer.waitFor();
  assert.equal(await drawer.getByTestId("lead").count(), 0, "no lead known yet");
  await page.evaluate(() => (window.__sameDocument = true));
  await lead({ lead_id: "88005678", first_name: "Ada", last_name: "Lovelace", status: "NEW", status_name: "New" });
  await drawer.getByTestId("lead").getByRole("heading", { name: "Lead · Ada Lovelace" }).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "no reload");
  await page.keyboard.press("Escape");
});
