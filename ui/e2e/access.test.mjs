// Masters › Access end to end: an admin gives a BI tool a read-only token
// (shown once, working at once, revoked in one click) and lifts the sign-in
// lock a forgetful agent ran into. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { adminApi, axeAtBothSizes, axeViolations, launchBrowser, shots, startServer } from "./harness.mjs";

/** What an authenticator app shows now for a base32 secret (RFC 6238). */
function totpNow(secret) {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += A.indexOf(c).toString(2).padStart(5, "0");
  const key = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) key.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const h = createHmac("sha1", Buffer.from(key)).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

let srv;
let browser;
let api;
let page;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  await api.post("/api/providers", { name: "Sales" });
  await api.post("/api/providers", { name: "Support" });
  await api.post("/api/users", { username: "meera", password: "meera-password-1", role: "agent", departments: [] });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  page = await ctx.newPage();
  await page.goto(srv.loginLink);
  await page.getByTestId("whoami").waitFor();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const login = (username, password) =>
  fetch(`${srv.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });

test("an admin issues a read-only token for one department, then revokes it", async () => {
  await page.getByRole("link", { name: "Access" }).click();
  await page.getByRole("heading", { name: "Integration tokens" }).waitFor();
  await page.getByText("No integration tokens yet.").waitFor();
  await page.getByRole("button", { name: "New integration token" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Create token" }).click();
  await dialog.getByText("Name who uses it").waitFor();
  await dialog.getByLabel("Name").fill("Power BI");
  await dialog.getByLabel("Figures: dashboard stats, metrics, agent performance").check();
  await dialog.getByLabel("Sales").check();
  await dialog.getByRole("button", { name: "Create token" }).click();
  const secret = await dialog.getByLabel("The new token").inputValue();
  assert.match(secret, /^cbi_[0-9a-f]{48}$/);
  await shots(page, "access-token-once");
  await dialog.getByRole("button", { name: "Done" }).click();

  const row = page.getByTestId("token-row").filter({ hasText: "Power BI" });
  await row.waitFor();
  assert.match(await row.innerText(), /Calls, Figures\s+Sales\s+Never\s+Not yet\s+Active/);
  assert.ok(!(await page.content()).includes(secret), "the secret is not on the page any more");

  const auth = { authorization: `Bearer ${secret}` };
  assert.equal((await fetch(`${srv.url}/api/stats`, { headers: auth })).status, 200);
  assert.equal((await fetch(`${srv.url}/api/users`, { headers: auth })).status, 403);

  await row.getByRole("button", { name: "Revoke Power BI" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await row.getByText("Revoked").waitFor();
  assert.equal((await fetch(`${srv.url}/api/stats`, { headers: auth })).status, 401);
});

test("an admin lifts the sign-in lock an agent ran into", async () => {
  for (let i = 0; i < 5; i++) assert.equal((await login("meera", "wrong")).status, 401);
  assert.equal((await login("meera", "meera-password-1")).status, 429, "locked from this client");
  await page.reload();
  const lock = page.getByTestId("lock-row").filter({ hasText: "meera" });
  await lock.waitFor();
  assert.match(await lock.innerText(), /meera\s+127\.0\.0\.1\s+5/);
  assert.deepEqual(await axeAtBothSizes(page), []);
  await lock.getByRole("button", { name: /Lift the lock of meera/ }).click();
  await page.getByText("No sign-in locks in force.").waitFor();
  assert.equal((await login("meera", "meera-password-1")).status, 200);
});

test("an admin turns on two-step sign-in; the password alone no longer signs in", async () => {
  await api.post("/api/users", { username: "priya", password: "priya-password-1", role: "admin", departments: [] });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const p = await ctx.newPage();
  const signIn = async (code) => {
    await p.goto(`${srv.url}/login`);
    await p.getByLabel("User name").fill("priya");
    await p.getByLabel("Password").fill("priya-password-1");
    await p.getByRole("button", { name: "Sign in" }).click();
    if (code) {
      await p.getByLabel("Code from your authenticator app").fill(code());
      await p.getByRole("button", { name: "Sign in" }).click();
    }
    await p.getByTestId("whoami").waitFor();
  };
  await signIn();
  await p.getByRole("link", { name: "Access" }).click();
  await p.getByRole("button", { name: "Set up two-step sign-in" }).click();
  const secret = await p.getByTestId("totp-secret").innerText();
  await p.getByLabel("Code from the app").fill("000000");
  await p.getByRole("button", { name: "Turn on" }).click();
  await p.getByText("That code is wrong or has expired").waitFor();
  assert.ok(await p.getByTestId("whoami").isVisible(), "a wrong code does not end the session");
  await p.getByLabel("Code from the app").fill(totpNow(secret));
  await p.getByRole("button", { name: "Turn on" }).click();
  await p.getByText("Signing in asks for the code").waitFor();

  await p.getByRole("button", { name: "Sign out" }).click();
  await p.getByLabel("User name").fill("priya");
  await p.getByLabel("Password").fill("priya-password-1");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByText("Enter the 6-digit code your authenticator app shows").waitFor();
  assert.equal(await p.getByTestId("whoami").count(), 0, "not signed in by the password alone");
  await shots(p, "login-two-step");
  await p.getByLabel("Code from your authenticator app").fill(totpNow(secret));
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByTestId("whoami").waitFor();
  await ctx.close();
});

test("anyone changes their own password with the current one; their other sessions end", async () => {
  await api.post("/api/users", { username: "kiran", password: "kiran-password-1", role: "agent", departments: [] });
  const elsewhere = await (await login("kiran", "kiran-password-1")).json();
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const p = await ctx.newPage();
  await p.goto(`${srv.url}/login`);
  await p.getByLabel("User name").fill("kiran");
  await p.getByLabel("Password").fill("kiran-password-1");
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByTestId("whoami").waitFor();

  await p.getByRole("button", { name: "Password", exact: true }).click();
  const dialog = p.getByRole("dialog", { name: "Change your password" });
  await dialog.getByLabel("Current password").fill("not-my-password");
  await dialog.getByLabel("New password", { exact: true }).fill("kiran-new-pass-2");
  await dialog.getByLabel("New password again").fill("kiran-new-pass-2");
  await dialog.getByRole("button", { name: "Change password" }).click();
  await dialog.getByText("That is not your current password.").waitFor();
  for (const v of await axeViolations(p)) assert.fail(`${v.id}: ${v.help}`);

  await dialog.getByLabel("Current password").fill("kiran-password-1");
  await dialog.getByRole("button", { name: "Change password" }).click();
  await p.getByTestId("password-changed").filter({ hasText: "1 other session was signed out" }).waitFor();
  await shots(p, "password-changed");
  await p.getByRole("button", { name: "Close", exact: true }).first().click();
  assert.ok(await p.getByTestId("whoami").isVisible(), "this session stays");

  const other = await fetch(`${srv.url}/api/auth/me`, { headers: { authorization: `Bearer ${elsewhere.token}` } });
  assert.equal(other.status, 401, "the other session ended");
  assert.equal((await login("kiran", "kiran-password-1")).status, 401);
  assert.equal((await login("kiran", "kiran-new-pass-2")).status, 200);
  await ctx.close();
});
