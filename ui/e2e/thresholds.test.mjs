// The supervisor cockpit's thresholds end to end: an admin sets levels and a
// webhook channel on the Thresholds screen; calls waiting cross amber then
// red; the console shows it on the sidebar badge, the Live tiles, a banner,
// the tab title and a browser notification; the channel receives each
// crossing once; back to normal clears it. Real server, real Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { adminApi, axeViolations, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let receiver;
const received = [];
const state = {};

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const created = await api.post("/api/providers", {
    name: "Sales Line",
    field_mapping: { call_id: "call_id", status: "status", mobile_number: "from" },
    status_map: { waiting: "waiting", completed: "completed" },
  });
  state.key = created.api_key;
  state.webhookUrl = `${srv.url}/webhooks/ivr/sales-line`;
  await api.post("/api/users", { username: "sara", password: "sara-password-1", role: "supervisor", departments: [] });
  // A local receiver for the webhook channel: it records every alert it gets.
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      try {
        received.push(JSON.parse(body));
      } catch {
        received.push({ unparsable: body });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  state.channelUrl = `http://127.0.0.1:${receiver.address().port}/alerts`;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await new Promise((r) => (receiver ? receiver.close(r) : r()));
});

async function adminPage(viewport = { width: 1366, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  await ctx.grantPermissions(["notifications"], { origin: srv.url });
  // Each notification the page shows is recorded (and still shown).
  await ctx.addInitScript(() => {
    const Real = window.Notification;
    window.__notes = [];
    class Recorded extends Real {
      constructor(title, opts) {
        super(title, opts);
        window.__notes.push({ title, body: opts?.body ?? "" });
      }
    }
    window.Notification = Recorded;
    // Each chime tone started is recorded (the sound still plays).
    window.__tones = [];
    const RealAudio = window.AudioContext;
    window.AudioContext = class extends RealAudio {
      createOscillator() {
        const osc = super.createOscillator();
        const start = osc.start.bind(osc);
        osc.start = (...args) => {
          window.__tones.push(osc.frequency.value);
          return start(...args);
        };
        return osc;
      }
    };
  });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(srv.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // On a phone the title bar may push it out of view: signed in is what counts.
  await page.getByTestId("whoami").filter({ hasText: "admin" }).waitFor({ state: "attached" });
  return page;
}

async function until(what, fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const salesLink = (page) => page.getByTestId("nav-live").getByRole("link", { name: /Sales Line/ });
const liveBadge = (page) =>
  page
    .getByTestId("nav-live")
    .getByRole("link", { name: /Sales Line/ })
    .getByTestId("badge");

test("a level in the wrong order is refused on the screen and nothing is saved", async () => {
  const page = await adminPage();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Thresholds" }).click();
  await page.getByRole("heading", { name: "Thresholds and alerts" }).waitFor();
  await page.getByLabel("Sales Line · Calls waiting · amber").fill("3");
  await page.getByLabel("Sales Line · Calls waiting · red").fill("2");
  await page.getByRole("button", { name: "Save thresholds" }).click();
  await page.getByText("Red must be at or above amber.").waitFor();
  await page.getByRole("alert").filter({ hasText: "Some levels are not valid" }).waitFor();
  const cfg = await api.get("/api/thresholds");
  assert.deepEqual(cfg.thresholds, [], "nothing was saved");
  await page.context().close();
});

test("an admin sets levels and a webhook channel; they are kept across a reload", async () => {
  const page = await adminPage();
  state.page = page;
  await page.goto(`${srv.url}/thresholds`);
  await page.getByLabel("Sales Line · Calls waiting · amber").fill("1");
  await page.getByLabel("Sales Line · Calls waiting · red").fill("2");
  await page.getByLabel("Sales Line · Abandon rate · amber").fill("50");
  await page.getByLabel("Sales Line · Abandon rate · window").fill("15");
  await page.getByRole("button", { name: "Add channel" }).click();
  await page.getByLabel("Channel 1", { exact: true }).selectOption("webhook");
  await page.getByLabel("Channel 1 URL").fill(state.channelUrl);
  await page.getByRole("button", { name: "Save thresholds" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const cfg = await api.get("/api/thresholds");
  const waiting = cfg.thresholds.find((t) => t.metric === "waiting_count");
  assert.deepEqual({ amber: waiting.amber, red: waiting.red }, { amber: 1, red: 2 }, JSON.stringify(cfg.thresholds));
  const abandon = cfg.thresholds.find((t) => t.metric === "abandon_rate");
  assert.deepEqual(
    { amber: abandon.amber, window: abandon.window_minutes },
    { amber: 0.5, window: 15 },
    "50 % is sent as 0.5",
  );
  assert.deepEqual(cfg.channels, [{ kind: "webhook", target: state.channelUrl, departments: null }]);
  await page.reload();
  assert.equal(await page.getByLabel("Sales Line · Calls waiting · red").inputValue(), "2");
  assert.equal(await page.getByLabel("Sales Line · Abandon rate · amber").inputValue(), "50");
  assert.equal(await page.getByLabel("Channel 1 URL").inputValue(), state.channelUrl);
  await shots(page, "t10-thresholds-screen");
});

test("calls waiting cross amber, then red: badge, tiles, banner, title, notification and the channel", async () => {
  const page = state.page;
  await page
    .getByTestId("nav-live")
    .getByRole("link", { name: /Sales Line/ })
    .click();
  await page.waitForURL(/\/live\/sales-line$/);
  await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
  assert.equal(await liveBadge(page).getAttribute("data-level"), "ok");

  await webhook(state.webhookUrl, state.key, { call_id: "T-1", status: "waiting", from: "+919800000001" });
  const banner = page.getByTestId("crossing-banner");
  await banner.getByText("Sales Line: Calls waiting is AMBER — 1 (≥ 1).").waitFor({ timeout: 3000 });
  await salesLink(page).locator('[data-level="amber"]').waitFor();
  await page.locator('[data-testid="threshold-tile"][data-metric="waiting_count"][data-level="amber"]').waitFor();
  assert.match(await page.title(), /^⚠ 1 alert · IVR Live/);

  await webhook(state.webhookUrl, state.key, { call_id: "T-2", status: "waiting", from: "+919800000002" });
  await banner.getByText("Sales Line: Calls waiting is RED — 2 (≥ 2).").waitFor({ timeout: 3000 });
  await salesLink(page).locator('[data-level="red"]').waitFor();
  await page.locator('[data-testid="threshold-tile"][data-metric="waiting_count"][data-level="red"]').waitFor();
  assert.match(await liveBadge(page).getAttribute("aria-label"), /2 live calls, red alert/);
  await shots(page, "t20-live-red");

  const notes = await until("two notifications", async () => {
    const n = await page.evaluate(() => window.__notes);
    return n.length >= 2 ? n : null;
  });
  assert.deepEqual(
    notes.map((n) => n.body),
    ["Sales Line: Calls waiting is AMBER — 1 (≥ 1).", "Sales Line: Calls waiting is RED — 2 (≥ 2)."],
  );

  // A chime per crossing: two tones, higher for red.
  const tones = await until("two chimes", async () => {
    const t = await page.evaluate(() => window.__tones);
    return t.length >= 4 ? t : null;
  });
  assert.deepEqual(tones, [660, 880, 880, 1175]);

  // The channel got each crossing exactly once.
  await until("two alerts at the receiver", () => received.length >= 2);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(
    received.map((a) => [a.department, a.metric, a.level]),
    [
      ["sales-line", "waiting_count", "amber"],
      ["sales-line", "waiting_count", "red"],
    ],
  );
  // The Thresholds screen lists them as sent.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Thresholds" }).click();
  await page.getByTestId("alert-log").locator('tr[data-level="red"]').getByText("Sent").waitFor();
});

test("the dashboard and the wallboard show the red threshold", async () => {
  const page = await adminPage();
  await page.goto(`${srv.url}/dashboard`);
  await page
    .locator('tr[data-slug="sales-line"] [data-testid="dept-level"][data-level="red"]')
    .getByText("Red")
    .waitFor();
  await page.goto(`${srv.url}/dashboard?wallboard=1`);
  await page
    .getByTestId("wallboard")
    .locator('[data-testid="threshold-tile"][data-metric="waiting_count"][data-level="red"]')
    .waitFor();
  await shots(page, "t25-wallboard-red");
  await page.context().close();
});

test("back to normal clears the badge, the tiles, the banner and the title", async () => {
  const page = state.page;
  await page
    .getByTestId("nav-live")
    .getByRole("link", { name: /Sales Line/ })
    .click();
  await webhook(state.webhookUrl, state.key, { call_id: "T-1", status: "completed" });
  await webhook(state.webhookUrl, state.key, { call_id: "T-2", status: "completed" });
  await page.getByTestId("crossing-banner").waitFor({ state: "detached", timeout: 3000 });
  await page.locator('[data-testid="threshold-tile"][data-metric="waiting_count"][data-level="ok"]').waitFor();
  assert.equal(await liveBadge(page).getAttribute("data-level"), "ok");
  assert.match(await page.title(), /^IVR Live/);
});

test("a dismissed alert stays dismissed until the figure gets worse again", async () => {
  const page = state.page;
  await webhook(state.webhookUrl, state.key, { call_id: "T-3", status: "waiting" });
  const banner = page.getByTestId("crossing-banner");
  await banner.getByText(/Calls waiting is AMBER/).waitFor({ timeout: 3000 });
  await banner.getByRole("button", { name: /^Dismiss/ }).click();
  await banner.waitFor({ state: "detached" });
  assert.match(await page.title(), /^IVR Live/);
  // The level itself is still shown where the figure is.
  await salesLink(page).locator('[data-level="amber"]').waitFor();
});

test("a threshold already amber when the console opens shows in the banner, quietly", async () => {
  const page = await adminPage();
  await page.goto(`${srv.url}/live/all`);
  const banner = page.getByTestId("crossing-banner");
  await banner.getByText(/Sales Line: Calls waiting is AMBER/).waitFor({ timeout: 5000 });
  assert.match(await page.title(), /^⚠ 1 alert · /);
  // Nothing got worse while watching: no chime, no notification.
  await page.waitForTimeout(300);
  assert.deepEqual(await page.evaluate(() => [window.__notes.length, window.__tones.length]), [0, 0]);
  // Dismissed, it stays away across the session's screens.
  await banner.getByRole("button", { name: /^Dismiss/ }).click();
  await banner.waitFor({ state: "detached" });
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Thresholds" }).click();
  await page.getByRole("button", { name: "Save thresholds" }).waitFor();
  assert.equal(await page.getByTestId("crossing-banner").count(), 0);
  await page.context().close();
});

test("a supervisor reads the thresholds but cannot change them", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("sara");
  await page.getByLabel("Password").fill("sara-password-1");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Thresholds" }).click();
  const amber = page.getByLabel("Sales Line · Calls waiting · amber");
  await amber.waitFor();
  assert.equal(await amber.inputValue(), "1");
  assert.ok(await amber.isDisabled(), "read-only for a supervisor");
  assert.equal(await page.getByRole("button", { name: "Save thresholds" }).count(), 0);
  await page.getByText("Only an administrator can change thresholds").waitFor();
  await ctx.close();
});

test("the Thresholds and Live screens pass axe, light and dark, at 1366×800 and 390×844", async () => {
  const found = [];
  for (const viewport of [
    { width: 1366, height: 800 },
    { width: 390, height: 844 },
  ]) {
    const page = await adminPage(viewport);
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const path of ["/thresholds", "/live/sales-line"]) {
        await page.goto(`${srv.url}${path}`);
        await page.getByTestId("connection").first().waitFor();
        await page.waitForTimeout(300);
        for (const v of await axeViolations(page))
          found.push({ viewport: viewport.width, scheme, path, ...v, nodes: v.nodes.join(" | ") });
      }
    }
    await shots(page, `t30-thresholds-${viewport.width}`);
    await page.context().close();
  }
  assert.deepEqual(found, []);
});
