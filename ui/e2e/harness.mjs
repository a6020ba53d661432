// Starts a real `callboard serve` on loopback with a fresh data directory and
// a real Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const SHOTS = join(here, "shots");
const BIN = process.env.CALLBOARD_BIN ?? resolve(here, "../../target/debug/callboard");
export const ADMIN_TOKEN = "e2e-admin-token-0123456789";

/** `restart`: the same data directory and port again (no first-start banner);
 * `env`: more variables for the server (e.g. a short session);
 * `printed`: keep the printed first-start password. Otherwise the harness
 * does what a new admin must do first, choosing a password of their own
 * (`password`; the printed one is `printedPassword`), so tests that sign in
 * by password meet the console, not the forced change. */
export async function startServer(restart, env = {}, { printed = false } = {}) {
  const dataDir = restart?.dataDir ?? mkdtempSync(join(tmpdir(), "callboard-e2e-"));
  const listen = restart ? new URL(restart.url).host : "127.0.0.1:0";
  const child = spawn(BIN, ["serve", "--data-dir", dataDir, "--listen", listen], {
    env: { ...process.env, CALLBOARD_ADMIN_TOKEN: ADMIN_TOKEN, RUST_LOG: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let errOut = "";
  child.stderr.on("data", (d) => (errOut += d));
  const info = await new Promise((resolveInfo, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${errOut}`)), 20_000);
    child.on("exit", (code) => reject(new Error(`server exited ${code}:\n${out}\n${errOut}`)));
    child.stdout.on("data", (d) => {
      out += d;
      const listen = /callboard listening on (http:\/\/\S+)/.exec(out);
      const link = /(http:\/\/\S+\/login\?code=\S+)/.exec(out);
      const password = /password (\S+)/.exec(out);
      if (listen && restart) {
        clearTimeout(timer);
        resolveInfo({ url: listen[1], loginLink: restart.loginLink, password: restart.password });
      } else if (listen && link && password) {
        clearTimeout(timer);
        resolveInfo({ url: listen[1], loginLink: link[1], password: password[1] });
      }
    });
  });
  const exited = new Promise((r) => {
    if (child.exitCode !== null) r();
    else child.on("exit", r);
  });
  if (!restart && !printed) {
    info.printedPassword = info.password;
    info.password = await chooseOwnPassword(info.url, info.password);
  }
  return {
    ...info,
    dataDir,
    /** Dies at once, as on a power cut; the data directory stays. */
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in with the printed password and replaces it, as the console
 * makes a new admin do; returns the new password. */
async function chooseOwnPassword(url, printed) {
  const post = (path, body, token) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const login = await post("/api/auth/login", { username: "admin", password: printed });
  const { token, must_change_password: must } = await login.json();
  if (login.status !== 200 || !must) throw new Error(`first sign-in: ${login.status}, must_change_password ${must}`);
  const own = `${printed}-own`;
  const changed = await post("/api/auth/password", { current: printed, new: own }, token);
  if (changed.status !== 200) throw new Error(`password change: ${changed.status} ${await changed.text()}`);
  await post("/api/auth/logout", {}, token);
  return own;
}

/** A replica (`callboard connect`) of `remoteUrl`, following it with `token`. */
export async function startReplica(remoteUrl, token) {
  const dataDir = mkdtempSync(join(tmpdir(), "callboard-e2e-replica-"));
  const child = spawn(BIN, ["connect", "--remote", remoteUrl, "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    env: { ...process.env, CALLBOARD_REMOTE_TOKEN: token, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica did not start:\n${out}`)), 20_000);
    child.on("exit", (code) => reject(new Error(`replica exited ${code}:\n${out}`)));
    child.stdout.on("data", (d) => {
      out += d;
      const listen = /callboard listening on (http:\/\/\S+)/.exec(out);
      if (listen) {
        clearTimeout(timer);
        resolveUrl(listen[1]);
      }
    });
  });
  child.stderr.resume();
  const exited = new Promise((r) => {
    if (child.exitCode !== null) r();
    else child.on("exit", r);
  });
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every page the tests open is watched for content-policy refusals: the
 * console must run whole under its own Content-Security-Policy, so closing
 * the browser fails the test file if anything was refused. */
export async function launchBrowser() {
  mkdirSync(SHOTS, { recursive: true });
  const browser = await launchChromium();
  const refused = [];
  const watch = (page) =>
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) refused.push(m.text());
    });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const ctx = await newContext(...args);
    ctx.on("page", watch);
    return ctx;
  };
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (...args) => {
    const page = await newPage(...args);
    watch(page);
    return page;
  };
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    if (refused.length) throw new Error(`the console's content policy refused: ${refused.slice(0, 3).join(" | ")}`);
  };
  return browser;
}

function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** The admin API, for setting up what a test does not drive through the UI. */
export function adminApi(base) {
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return json;
  };
  return {
    get: (p) => call("GET", p),
    post: (p, b) => call("POST", p, b ?? {}),
    patch: (p, b) => call("PATCH", p, b),
    del: (p) => call("DELETE", p),
  };
}

/** A new browser context signed in to the console as `username`. */
export async function signedIn(browser, base, username, password, viewport = { width: 1366, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  await page.goto(`${base}/`);
  await page.getByLabel("User name").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
  return page;
}

export async function webhook(url, key, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`webhook ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Screenshots in the light and the dark theme. */
export async function shots(page, name) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(50);
    await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** Accessibility violations (axe-core) of impact serious or critical. */
export async function axeViolations(page) {
  const { createRequire } = await import("node:module");
  const require = createRequire(import.meta.url);
  // Evaluated, not added as a <script>: the console's content policy
  // (script-src 'self') refuses inline scripts, as it should.
  const { readFileSync } = await import("node:fs");
  await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/**
 * axe's serious violations at 1366×800 and 390×844, in light and dark, as
 * one list (empty when the screen passes). `prepare` runs after each resize
 * (a screen that must be reloaded at its size); `settleMs` lets the theme
 * apply before axe looks.
 */
export async function axeAtBothSizes(page, { prepare, settleMs = 150 } = {}) {
  const found = [];
  for (const size of [
    { width: 1366, height: 800 },
    { width: 390, height: 844 },
  ]) {
    await page.setViewportSize(size);
    if (prepare) await prepare(size);
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(settleMs);
      for (const v of await axeViolations(page))
        found.push({ width: size.width, scheme, ...v, nodes: v.nodes.join(" | ") });
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  return found;
}
