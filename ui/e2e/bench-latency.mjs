// Webhook → row on screen, against webhook → WebSocket message in the same
// page (the baseline): what the console adds on top of the stream.
//   cargo build --release && (cd ui && npx vite build) &&
//   CALLBOARD_BIN=target/release/callboard node ui/e2e/bench-latency.mjs [count]
import { adminApi, launchBrowser, startServer, webhook } from "./harness.mjs";

const count = Number(process.argv[2] ?? 300);
const srv = await startServer();
const p = await adminApi(srv.url).post("/api/providers", {
  name: "Bench",
  field_mapping: { call_id: "data.call_id", mobile_number: "data.caller", status: "data.status" },
  status_map: { ringing: "ringing" },
});
const browser = await launchBrowser();
const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
await page.goto(srv.loginLink);
await page.getByTestId("whoami").waitFor();
await page.goto(`${srv.url}/live/bench`);
await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
await page.evaluate(() => {
  const now = () => performance.timeOrigin + performance.now();
  window.__seen = {};
  window.__ws = {};
  new MutationObserver(() => {
    for (const tr of document.querySelectorAll("tr[data-call-id]")) {
      const id = tr.getAttribute("data-call-id");
      if (!(id in window.__seen)) window.__seen[id] = now();
    }
  }).observe(document.body, { childList: true, subtree: true });
  // The page's session cookie signs the stream in, as it does the console's own.
  const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/events`);
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.type === "call.upserted" && !(ev.data.call_id in window.__ws)) window.__ws[ev.data.call_id] = now();
  };
  return new Promise((r) => (ws.onopen = r));
});

const sent = {};
const url = p.webhook_url.replace("localhost", "127.0.0.1");
for (let i = 0; i < count; i++) {
  const id = `B${i}`;
  sent[id] = Date.now();
  await webhook(url, p.api_key, { data: { call_id: id, caller: "+919800000000", status: "ringing" } });
  await new Promise((r) => setTimeout(r, 50));
}
await page.waitForFunction((n) => Object.keys(window.__seen).length >= n, count, { timeout: 60_000 });
const { seen, ws } = await page.evaluate(() => ({ seen: window.__seen, ws: window.__ws }));
const pct = (xs, q) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const screen = Object.keys(sent).map((id) => seen[id] - sent[id]);
const stream = Object.keys(sent).map((id) => ws[id] - sent[id]);
const fmt = (xs) => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p99 ${pct(xs, 0.99).toFixed(1)} ms`;
console.log(`webhooks: ${count} at ~20/s, 1280x720, growing live queue`);
console.log(`baseline webhook -> WebSocket message in the page: ${fmt(stream)}`);
console.log(`webhook -> row on screen:                          ${fmt(screen)}`);
console.log(
  `ratio (p50): ${(pct(screen, 0.5) / pct(stream, 0.5)).toFixed(2)}x, (p99): ${(pct(screen, 0.99) / pct(stream, 0.99)).toFixed(2)}x`,
);
await browser.close();
await srv.stop();
