// The console served by a replica (remote mode): it says when the receiver
// is gone, keeps the last known state, queues a disposition and delivers it
// once the receiver is back.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, launchBrowser, shots, startReplica, startServer, webhook } from "./harness.mjs";

let srv;
let rep;
let browser;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await rep?.stop();
  await srv?.stop();
});

test("offline on a replica: the console says since when, queues a disposition, delivers it when the receiver is back", async () => {
  const api = adminApi(srv.url);
  const provider = await api.post("/api/providers", {
    name: "Front Desk",
    field_mapping: { call_id: "data.call_id", mobile_number: "data.caller", status: "data.status" },
    status_map: { "no-answer": "missed", abandoned: "hangup" },
  });
  await webhook(provider.webhook_url.replace("localhost", "127.0.0.1"), provider.api_key, {
    data: { call_id: "RM-1", caller: "+919812345678", status: "abandoned" },
  });
  const res = await fetch(`${srv.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: srv.password }),
  });
  const { token } = await res.json();
  rep = await startReplica(srv.url, token);

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  // The replica's console is signed in by its token, in the session cookie.
  // (A replica names its cookie after its port: a receiver on the same host keeps its own.)
  await ctx.addCookies([
    {
      name: `callboard_session_${new URL(rep.url).port}`,
      value: token,
      url: rep.url,
      httpOnly: true,
      sameSite: "Strict",
    },
  ]);
  const page = await ctx.newPage();
  await page.goto(`${rep.url}/hangup/front-desk`);
  const conn = page.getByTestId("connection");
  await conn.filter({ hasText: "Live" }).waitFor({ timeout: 20_000 });
  await page.locator('tr[data-call-id="RM-1"]').click();
  await page.keyboard.press("d");
  const form = page.getByTestId("disposition-form");
  await form.waitFor();

  await srv.kill();
  await conn.filter({ hasText: /Offline since \d\d:\d\d/ }).waitFor({ timeout: 20_000 });
  await form.getByLabel("Category", { exact: true }).selectOption("Not reachable");
  await form.getByLabel("Notes").fill("Tried while the office link was down");
  await form.getByRole("button", { name: "Save disposition" }).click();
  await form.getByTestId("disposition-queued").waitFor();
  await conn.filter({ hasText: /Offline since \d\d:\d\d · 1 change waiting/ }).waitFor({ timeout: 10_000 });
  // The last known state stays on screen.
  assert.equal(await page.locator('tr[data-call-id="RM-1"]').count(), 1);
  // Between attempts: when the next one is, and a way not to wait for it
  // ("Retry now": the replica tries at once, 202, and waits again).
  const retry = page.getByTestId("retry");
  await retry.filter({ hasText: /next try in \d+ s/ }).waitFor({ timeout: 20_000 });
  await page.keyboard.press("Escape"); // the call drawer
  await form.waitFor({ state: "detached" });
  await shots(page, "80-replica-offline");
  const answered = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/replica/reconnect",
  );
  await retry.getByRole("button", { name: "Retry now" }).click();
  assert.equal((await answered).status(), 202, "the replica was waiting, and tried at once");

  srv = await startServer(srv);
  await conn.filter({ hasText: /^Live$/ }).waitFor({ timeout: 60_000 });
  assert.equal(await retry.count(), 0, "no countdown once live");
  const call = await adminApi(srv.url).get("/api/calls/RM-1");
  assert.equal(call.dispositions.length, 1, "delivered exactly once");
  assert.equal(call.dispositions[0].notes, "Tried while the office link was down");
});
