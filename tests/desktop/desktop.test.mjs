// The real desktop app, end to end, on Linux: run by scripts/test-desktop
// under Xvfb in a D-Bus session with dunst (notifications) and gnome-keyring
// (Secret Service). It drives the real window through tauri-driver and
// WebKitWebDriver: the first-run choice, the receiver's webhook address, a
// missed call that notifies exactly once, the keyring holding the secret,
// and the hangup worklist listing the call.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { fileURLToPath } from "node:url";
import { WebDriver, sleep } from "./webdriver.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const app = process.env.CALLBOARD_DESKTOP_BIN ?? join(root, "target/debug/callboard-desktop");
const shots = join(root, "tests/desktop/shots");
const ADMIN = "desktop-e2e-admin-token";
const CALLER = "+919876543210";
const SHOWN = "+91 98765 43210";

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

function dunst(...args) {
  return execFileSync("dunstctl", args, { encoding: "utf8" });
}

/** Notifications dunst has shown (closed ones are in its history). */
function notificationsShown() {
  dunst("close-all");
  const h = JSON.parse(dunst("history"));
  return (h.data?.[0] ?? []).map((n) => ({ summary: n.summary?.data ?? "", body: n.body?.data ?? "" }));
}

function screen(name) {
  try {
    execFileSync("import", ["-window", "root", join(shots, `${name}-screen.png`)]);
  } catch (e) {
    console.error(`screenshot of the screen failed: ${e.message}`);
  }
}

let driver;
let wd;
let port;
let home;
let updates;

const tauriCli = join(root, "ui/node_modules/.bin/tauri");
// Stand-ins for AppImages: ELF files (the updater checks the header) of a
// plausible header length, each saying which build it is.
const elf = (what) => Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01", "latin1"), Buffer.alloc(120), Buffer.from(what)]);
const NEW_BUILD = elf("Callboard 99.0.0, the newer build");
const OLD_BUILD = elf("Callboard 0.1.0, the build installed");

/** A minisign signature of `bytes` for `version`, as the release workflow makes it. */
function sign(dir, key, name, bytes, version) {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  execFileSync(tauriCli, ["signer", "sign", "-f", key, "-p", "", "--app-version", version, file], { stdio: "ignore" });
  return readFileSync(`${file}.sig`, "utf8").trim();
}

/**
 * A local update server on loopback: `/{channel}.json` answers 204 (no
 * update) until a test sets `release`, then the manifest; the artefact is
 * whatever `artefact` holds (the genuine build or a tampered copy).
 */
async function updateServer() {
  const dir = mkdtempSync(join(tmpdir(), "callboard-updates-"));
  const key = join(dir, "update.key");
  execFileSync(tauriCli, ["signer", "generate", "--ci", "-p", "", "-w", key], { stdio: "ignore" });
  const u = {
    pubkey: readFileSync(`${key}.pub`, "utf8").trim(),
    requested: [],
    release: null,
    artefact: NEW_BUILD,
    signed: sign(dir, key, "new", NEW_BUILD, "99.0.0"),
    signedForOlder: sign(dir, key, "older", NEW_BUILD, "98.0.0"),
  };
  u.server = createHttpServer((req, res) => {
    u.requested.push(req.url);
    if (req.url.endsWith(".json")) {
      if (!u.release) return res.writeHead(204).end();
      const entry = { url: `${u.base}/Callboard_99.0.0_amd64.AppImage`, signature: u.release.signature };
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          version: "99.0.0",
          notes: "Faster wallboard.\nFixes the SLA clock.",
          pub_date: "2026-12-01T09:00:00Z",
          platforms: { "linux-x86_64": entry, "linux-x86_64-appimage": entry },
        }),
      );
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": u.artefact.length });
    res.end(u.artefact);
  });
  await new Promise((r) => u.server.listen(0, "127.0.0.1", r));
  u.base = `http://127.0.0.1:${u.server.address().port}`;
  return u;
}

before(async () => {
  assert.ok(existsSync(app), `build the app first: ${app}`);
  mkdirSync(shots, { recursive: true });
  home = mkdtempSync(join(tmpdir(), "callboard-desktop-"));
  mkdirSync(join(home, "home"));
  port = await freePort();
  const driverPort = await freePort();
  updates = await updateServer();
  // The app runs "as an AppImage" at this path: what an update replaces.
  const appimage = join(home, "Callboard.AppImage");
  writeFileSync(appimage, OLD_BUILD);
  chmodSync(appimage, 0o755);
  // The app inherits this environment: its settings and data in a fresh
  // place, and an admin token so the test can call the API.
  driver = spawn("tauri-driver", ["--port", String(driverPort)], {
    env: {
      ...process.env,
      // The login entry (XDG autostart) goes under $HOME/.config/autostart.
      HOME: join(home, "home"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_DATA_HOME: join(home, "data"),
      CALLBOARD_ADMIN_TOKEN: ADMIN,
      CALLBOARD_LOG: "info",
      // Updates from the local server, signed with the test's key.
      CALLBOARD_UPDATE_URL: `${updates.base}/{channel}.json`,
      CALLBOARD_UPDATE_PUBKEY: updates.pubkey,
      APPIMAGE: appimage,
    },
    stdio: ["ignore", "inherit", "inherit"],
    // Its own process group: the app and WebKitWebDriver it starts share our
    // stdout, so one left running would keep the test runner waiting on that
    // pipe forever. after() ends the whole group.
    detached: true,
  });
  wd = new WebDriver(`http://127.0.0.1:${driverPort}`);
  await wd.waitUntil("tauri-driver", async () => (await fetch(`${wd.base}/status`)).ok, 15_000);
  await wd.start(app);
});

after(async () => {
  await Promise.race([wd?.end(), sleep(10_000)]);
  await endGroup(driver);
  updates?.server.close();
});

/** TERM to the process group, KILL to whatever is left of it after 5 s. */
async function endGroup(child) {
  if (!child?.pid) return;
  const signal = (s) => {
    try {
      process.kill(-child.pid, s);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  if (!signal("SIGTERM")) return;
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    if (!signal(0)) return;
  }
  signal("SIGKILL");
}

const api = (path, init = {}) =>
  fetch(`http://127.0.0.1:${port}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...(init.headers ?? {}) },
  });

test("first run → receiver → a missed call notifies once → the worklist lists it", async () => {
  // The first-run question.
  const receiver = await wd.waitFor("xpath", "//label[contains(., 'Run the receiver on this computer')]");
  await wd.find("xpath", "//label[contains(., 'Connect to a Callboard receiver')]");
  writeFileSync(join(shots, "1-first-run.png"), await wd.screenshot());
  await wd.click(receiver);
  await wd.click(await wd.waitFor("xpath", "//label[contains(., 'This computer only')]"));
  const portInput = await wd.find("css selector", "input[name=port]");
  await wd.clear(portInput);
  await wd.type(portInput, String(port));
  writeFileSync(join(shots, "2-receiver-choice.png"), await wd.screenshot());
  await wd.click(await wd.find("xpath", "//button[contains(., 'Start the receiver')]"));

  // The webhook address to give the platform, and the honest hint.
  const base = await wd.waitFor("css selector", "[data-testid=webhook-base]");
  assert.equal(await wd.text(base), `http://127.0.0.1:${port}/webhooks/ivr/<slug>`);
  const info = await wd.text(await wd.find("css selector", "[data-testid=receiver-info]"));
  assert.match(info, /this computer only/i);
  writeFileSync(join(shots, "3-receiver-running.png"), await wd.screenshot());

  // A receiver starts at login by default (hidden, in the tray): otherwise
  // webhooks fail after a reboot until someone opens the app.
  const loginEntry = join(home, "home/.config/autostart/Callboard.desktop");
  await wd.waitUntil("the login entry", async () => existsSync(loginEntry));
  // (Run as an AppImage, the entry starts the AppImage, which updates replace.)
  const entry = readFileSync(loginEntry, "utf8");
  assert.ok(entry.includes(`\nExec=${join(home, "Callboard.AppImage")} --hidden\n`), entry);

  // The generated admin password is in the keyring (Secret Service), not a file.
  const secret = execFileSync("secret-tool", ["lookup", "service", "callboard", "username", "admin-password"], {
    encoding: "utf8",
  }).trim();
  assert.ok(secret.length >= 12, "the keyring holds the admin password");
  const settings = execFileSync("cat", [join(home, "config/app.callboard.desktop/settings.json")], {
    encoding: "utf8",
  });
  assert.ok(!settings.includes(secret), "never in the settings file");
  assert.ok(!existsSync(join(home, "config/app.callboard.desktop/secrets.json")), "no fallback file");

  // A provider, and a call that rings and is missed.
  let r = await api("/api/providers", {
    method: "POST",
    body: JSON.stringify({
      name: "Sales IVR",
      field_mapping: { call_id: "call_id", mobile_number: "caller", status: "status", voicemail_link: "vm" },
      status_map: { ringing: "ringing", "no-answer": "missed", completed: "completed" },
    }),
  });
  assert.equal(r.status, 201, await r.clone().text());
  const { api_key: key, slug } = await r.json();
  // A private D-Bus session: dunst has shown nothing before this test.
  assert.deepEqual(notificationsShown(), []);
  const hook = (body) =>
    fetch(`http://127.0.0.1:${port}/webhooks/ivr/${slug}`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  assert.equal((await hook({ call_id: "d-1", caller: CALLER, status: "ringing" })).status, 200);
  assert.equal((await hook({ call_id: "d-1", caller: CALLER, status: "no-answer" })).status, 200);
  // The platform retries the same event: still one call, one notice.
  assert.equal((await hook({ call_id: "d-1", caller: CALLER, status: "no-answer" })).status, 200);
  await sleep(2500); // the notifier coalesces bursts over 1.5 s
  screen("4-notification");
  await sleep(1500);
  const shown = notificationsShown().filter((n) => n.summary.includes(SHOWN));
  assert.equal(shown.length, 1, JSON.stringify(notificationsShown()));
  assert.equal(shown[0].summary, `Missed call from ${SHOWN} · Sales IVR`);

  // A department's figure crossing its red threshold notifies too, once.
  r = await api("/api/thresholds", {
    method: "PUT",
    body: JSON.stringify({ thresholds: [{ department: slug, metric: "waiting_count", amber: 1, red: 2 }] }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  assert.equal((await hook({ call_id: "d-3", caller: "+919800000003", status: "ringing" })).status, 200);
  assert.equal((await hook({ call_id: "d-4", caller: "+919800000004", status: "ringing" })).status, 200);
  await wd.waitUntil(
    "the red threshold notice",
    async () => notificationsShown().some((n) => n.summary === "Red: calls waiting · Sales IVR"),
    15_000,
  );
  const red = notificationsShown().filter((n) => n.summary.startsWith("Red: calls waiting"));
  assert.equal(red.length, 1, JSON.stringify(notificationsShown()));
  assert.equal(red[0].body, "Calls waiting is 2 (red threshold 2).");
  for (const id of ["d-3", "d-4"]) {
    assert.equal((await hook({ call_id: id, caller: "+919800000003", status: "completed" })).status, 200);
  }

  // Into the console (signed in by the shell) and to the hangup worklist.
  await wd.click(await wd.find("xpath", "//button[contains(., 'Open the console')]"));
  const link = await wd.waitFor("css selector", `nav a[href="/hangup/${slug}"]`);
  writeFileSync(join(shots, "5-console.png"), await wd.screenshot());
  await wd.click(link);
  await wd.waitUntil("the hangup worklist", async () =>
    (await wd.execute("return location.pathname")) === `/hangup/${slug}`,
  );
  const row = await wd.waitFor("xpath", `//tbody/tr[contains(., '${SHOWN}')]`);
  assert.match(await wd.text(row), /Missed/);
  writeFileSync(join(shots, "6-hangup-worklist.png"), await wd.screenshot());

  // A second missed call later notifies again (a new call, not a replay).
  assert.equal((await hook({ call_id: "d-2", caller: "+919812345678", status: "no-answer" })).status, 200);
  await sleep(2500);
  // Clicking it (dunst's default action) opens that call in the window.
  await wd.execute("history.pushState(null, '', '/'); dispatchEvent(new PopStateEvent('popstate'))");
  dunst("action", "0");
  await wd.waitUntil("the clicked call open", async () =>
    (await wd.execute("return location.pathname + location.search")) === `/hangup/${slug}?view=pending&call=d-2`,
  );
  await wd.waitFor("xpath", "//*[@role='dialog'][contains(., '+91 98123 45678')]");
  writeFileSync(join(shots, "6b-notification-clicked.png"), await wd.screenshot());
  await wd.click(await wd.find("css selector", "button[aria-label='Close call details']"));
  const all = notificationsShown();
  assert.equal(all.filter((n) => n.summary.includes("Missed call from")).length, 2, JSON.stringify(all));

  // A voicemail left for the window's user (the administrator it is signed in
  // as, here the call's assignee) notifies them; one meant for nobody does not.
  const users = await (await api("/api/users")).json();
  const me = users.data.find((u) => u.username === "admin");
  assert.ok(me, JSON.stringify(users));
  r = await api(`/api/calls/d-1/assign?department=${slug}`, {
    method: "POST",
    body: JSON.stringify({ user_id: me.id }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  const vm = (id, caller) => hook({ call_id: id, caller, status: "no-answer", vm: `https://example.com/${id}.mp3` });
  assert.equal((await vm("d-2", "+919812345678")).status, 200);
  assert.equal((await vm("d-1", CALLER)).status, 200);
  await wd.waitUntil(
    "the voicemail notice",
    async () => {
      const h = JSON.parse(dunst("history")).data?.[0] ?? [];
      return dunst("count", "displayed").trim() !== "0" || h.some((n) => n.summary?.data?.startsWith("Voicemail"));
    },
    15_000,
  );
  await sleep(2000); // a notice for d-2 would have come in the same burst
  screen("6c-voicemail-notification");
  // Clicking it opens the department's voicemail inbox.
  await wd.execute("history.pushState(null, '', '/'); dispatchEvent(new PopStateEvent('popstate'))");
  dunst("action", "0");
  await wd.waitUntil("the voicemail inbox open", async () =>
    (await wd.execute("return location.pathname + location.search")) === `/voicemail?department=${slug}`,
  );
  await wd.waitFor("css selector", "[data-testid=voicemail-row][data-call-id='d-1']");
  writeFileSync(join(shots, "6d-voicemail-clicked.png"), await wd.screenshot());
  const voicemails = notificationsShown().filter((n) => n.summary.includes("oicemail"));
  assert.deepEqual(
    voicemails.map((n) => n.summary),
    [`Voicemail for you from ${SHOWN} · Sales IVR`],
    JSON.stringify(notificationsShown()),
  );

  // "This computer" shows the same settings the first run chose.
  await wd.click(await wd.find("css selector", 'nav a[href="/desktop/settings"]'));
  const portField = await wd.waitFor("css selector", "input[name=port]");
  assert.equal(await wd.execute("return arguments[0].value", [{ "element-6066-11e4-a52e-4f735466cecf": portField }]), String(port));
  writeFileSync(join(shots, "7-settings.png"), await wd.screenshot());

  // Starting at login is a setting: untick, save, and the entry is gone.
  const autostart = await wd.find("css selector", "input[name=autostart]");
  const ticked = () => wd.execute("return arguments[0].checked", [{ "element-6066-11e4-a52e-4f735466cecf": autostart }]);
  assert.equal(await ticked(), true);
  // (Scrolled into view first: the sticky Save bar covers the form's end.)
  await wd.execute("arguments[0].scrollIntoView({ block: 'center' })", [{ "element-6066-11e4-a52e-4f735466cecf": autostart }]);
  await wd.click(autostart);
  assert.equal(await ticked(), false);
  await wd.find("xpath", "//*[contains(., 'webhooks fail until someone opens Callboard')]");
  await wd.click(await wd.find("xpath", "//button[contains(., 'Save')]"));
  await wd.waitFor("xpath", "//*[@role='status'][contains(., 'Saved.')]");
  await wd.waitUntil("the login entry removed", async () => !existsSync(loginEntry));
  const saved = JSON.parse(readFileSync(join(home, "config/app.callboard.desktop/settings.json"), "utf8"));
  assert.equal(saved.autostart, false);

  // The app's own log file, a day per file, and the diagnostics to send.
  const logDir = join(home, "data/app.callboard.desktop/logs");
  const logFile = readdirSync(logDir).find((f) => /^callboard\.\d{4}-\d{2}-\d{2}\.log$/.test(f));
  assert.ok(logFile, `a dated log file in ${logDir}: ${readdirSync(logDir)}`);
  const logged = readFileSync(join(logDir, logFile), "utf8");
  assert.match(logged, /callboard started/);
  assert.doesNotMatch(logged, /\x1b\[/, "no colour codes in the file");
  const copy = await wd.find("xpath", "//button[contains(., 'Copy diagnostics')]");
  await wd.execute("arguments[0].scrollIntoView({ block: 'center' })", [{ "element-6066-11e4-a52e-4f735466cecf": copy }]);
  await wd.click(copy);
  const diag = await wd.text(await wd.waitFor("css selector", "[data-testid=diagnostics]"));
  assert.match(diag, /^Callboard desktop \d+\.\d+\.\d+ \(linux/);
  assert.match(diag, /mode: receiver/);
  assert.ok(diag.includes(logDir), "says where the logs are");
  assert.match(diag, /\/readyz: 200 /);
  assert.match(diag, /callboard started/, "with the log's last lines");
  assert.ok(!diag.includes(ADMIN) && !diag.includes(secret), "never a token or password");
  writeFileSync(join(shots, "8-diagnostics.png"), await wd.screenshot());

  // Updates: nothing newer yet, then an offer; a tampered download and a
  // replayed older release are refused, the genuine one replaces the AppImage.
  const el = (id) => [{ "element-6066-11e4-a52e-4f735466cecf": id }];
  const appimage = join(home, "Callboard.AppImage");
  const check = await wd.find("xpath", "//button[contains(., 'Check for updates')]");
  await wd.execute("arguments[0].scrollIntoView({ block: 'center' })", el(check));
  await wd.find("xpath", "//p[contains(., 'This is Callboard 0.1.0')]");
  // A click, then the check's end (its button enabled again): a click on a
  // button still disabled by the check would be lost.
  const checkNow = async () => {
    const asked = updates.requested.length;
    await wd.click(check);
    await wd.waitUntil("the manifest asked", async () => updates.requested.length > asked);
    await wd.waitFor("xpath", "//button[not(@disabled)][contains(., 'Check for updates')]");
  };
  await checkNow();
  await wd.waitFor("xpath", "//*[@data-testid='update-state'][contains(., 'is the latest version on this channel')]");
  assert.ok(updates.requested.includes("/stable.json"), JSON.stringify(updates.requested));

  updates.release = { signature: updates.signed };
  updates.artefact = Buffer.from(NEW_BUILD);
  updates.artefact[updates.artefact.length - 1] ^= 1; // one bit flipped on the way
  await checkNow();
  await wd.waitFor("xpath", "//*[@data-testid='update-state'][contains(., 'Callboard 99.0.0 is available')]");
  await wd.find("xpath", "//pre[contains(., 'Fixes the SLA clock.')]");
  writeFileSync(join(shots, "9-update-offer.png"), await wd.screenshot());
  const install = await wd.find("xpath", "//button[contains(., 'Download and install')]");
  await wd.click(install);
  await wd.waitFor("xpath", "//*[@role='alert'][contains(., 'does not match its signature')]");
  assert.deepEqual(readFileSync(appimage), OLD_BUILD, "a tampered update is never installed");

  // The genuine file, but with the signature of an older release: a
  // replayed downgrade, refused because the signature names 98.0.0.
  updates.artefact = NEW_BUILD;
  updates.release = { signature: updates.signedForOlder };
  await checkNow();
  await wd.click(await wd.waitFor("xpath", "//button[contains(., 'Download and install')]"));
  await wd.waitFor("xpath", "//*[@role='alert'][contains(., 'does not match its signature')]");
  assert.deepEqual(readFileSync(appimage), OLD_BUILD);

  updates.release = { signature: updates.signed };
  await checkNow();
  await wd.click(await wd.waitFor("xpath", "//button[contains(., 'Download and install')]"));
  await wd
    .waitFor(
      "xpath",
      "//*[@data-testid='update-state'][contains(., 'Callboard 99.0.0 is installed. Restart Callboard to use it.')]",
      30_000,
    )
    .catch(async (e) => {
      const said = await wd.execute("return document.querySelector('[data-testid=update-state]')?.parentElement.innerText");
      throw new Error(`${e.message}; the Updates panel says: ${said}`);
    });
  await wd.find("xpath", "//button[contains(., 'Restart now')]");
  assert.deepEqual(readFileSync(appimage), NEW_BUILD, "the AppImage is the new build");
  writeFileSync(join(shots, "10-update-installed.png"), await wd.screenshot());

  // The channel on screen is the one asked.
  await wd.execute(
    "const s = document.querySelector('select[name=update_channel]'); s.value = 'beta'; s.dispatchEvent(new Event('change', { bubbles: true }));",
  );
  updates.release = null;
  await checkNow();
  assert.equal(updates.requested.at(-1), "/beta.json");
});
