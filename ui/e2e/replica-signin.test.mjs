// Signing in on a replica's own page (remote mode, in a browser): the
// receiver checks the password, the replica opens a session for its own user
// only, and the receiver's cookie and the replica's (one host, two ports)
// live side by side. Real receiver, real replica, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { adminApi, launchBrowser, shots, startReplica, startServer, webhook } from "./harness.mjs";

const PASSWORD = "a-good-password-1";

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

async function signIn(page, username) {
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a replica's sign-in page signs its own user in, refuses another, and keeps the receiver's session", async () => {
  const api = adminApi(srv.url);
  const provider = await api.post("/api/providers", {
    name: "Front Desk",
    field_mapping: { call_id: "data.call_id", mobile_number: "data.caller", status: "data.status" },
    status_map: { "no-answer": "missed", abandoned: "hangup" },
  });
  await webhook(provider.webhook_url.replace("localhost", "127.0.0.1"), provider.api_key, {
    data: { call_id: "RS-1", caller: "+919812345678", status: "abandoned" },
  });
  for (const username of ["meera", "ravi"]) {
    await api.post("/api/users", { username, password: PASSWORD, role: "supervisor", departments: [] });
  }
  const res = await fetch(`${srv.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "meera", password: PASSWORD }),
  });
  const { token } = await res.json();
  rep = await startReplica(srv.url, token);
  const replicaCookie = `callboard_session_${new URL(rep.url).port}`;

  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  // Signed in on the receiver first, in the same browser (same host).
  const onReceiver = await ctx.newPage();
  await onReceiver.goto(`${srv.url}/`);
  await signIn(onReceiver, "meera");
  await onReceiver.getByTestId("whoami").waitFor();

  const page = await ctx.newPage();
  await page.goto(`${rep.url}/`);
  // Someone else's right password: refused, saying whose desktop this is.
  await signIn(page, "ravi");
  const refusal = page.getByRole("alert");
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /only the user this desktop mirrors.*open the receiver at/i);
  await shots(page, "81-replica-signin-refused");

  await signIn(page, "meera");
  await page.getByTestId("whoami").waitFor();
  const names = (await ctx.cookies()).map((c) => c.name).sort();
  assert.deepEqual(names, ["callboard_session", replicaCookie].sort(), "both sessions are held");
  assert.equal(await page.evaluate(() => document.cookie), "", "script sees neither");
  await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor({ timeout: 20_000 });

  // A change through the replica (the session's CSRF token) lands on the receiver.
  await page.goto(`${rep.url}/hangup/front-desk`);
  await page.locator('tr[data-call-id="RS-1"]').click();
  await page.keyboard.press("d");
  const form = page.getByTestId("disposition-form");
  await form.waitFor();
  await form.getByLabel("Category", { exact: true }).selectOption("Not reachable");
  await form.getByLabel("Notes").fill("Signed in on the replica");
  await form.getByRole("button", { name: "Save disposition" }).click();
  let call;
  for (let i = 0; i < 50; i++) {
    call = await api.get("/api/calls/RS-1");
    if (call.dispositions.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(call.dispositions.length, 1);
  assert.equal(call.dispositions[0].notes, "Signed in on the replica");
  assert.equal(call.dispositions[0].actor, "meera");

  // The receiver's console is still signed in after all that.
  await onReceiver.reload();
  await onReceiver.getByTestId("whoami").waitFor();

  // Signing out of the replica ends its session only.
  await page.goto(`${rep.url}/`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("User name").waitFor();
  assert.deepEqual(
    (await ctx.cookies()).map((c) => c.name),
    ["callboard_session"],
    "the replica's cookie is gone, the receiver's stays",
  );
  await onReceiver.reload();
  await onReceiver.getByTestId("whoami").waitFor();
  await ctx.close();
});
