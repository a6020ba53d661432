// The analytics screen end to end: webhooks with known timestamps make known
// numbers; the tiles, tables, filters and both CSV exports must show them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { adminApi, axeViolations, launchBrowser, shots, startServer, webhook } from "./harness.mjs";

let srv;
let browser;
let api;
let page;
const slugs = {};

const MAPPING = {
  call_id: "data.call_id",
  mobile_number: "data.caller",
  caller_name: "data.name",
  status: "data.status",
  started_at: "data.started",
  answered_at: "data.answered",
  ended_at: "data.ended",
  event_at: "data.ended",
  agent_name: "data.agent",
};
const STATUS_MAP = { answered: "active", "no-answer": "missed", abandoned: "hangup", completed: "completed" };

const at = (hms) => `2026-03-02T${hms}Z`;
const call = (id, status, started, answered, ended, agent, name = "Caller") => ({
  data: {
    call_id: id,
    caller: "+919800000001",
    name,
    status,
    started: at(started),
    answered: answered && at(answered),
    ended: at(ended),
    agent,
  },
});

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  for (const name of ["Sales", "Support"]) {
    const p = await api.post("/api/providers", { name, field_mapping: MAPPING, status_map: STATUS_MAP });
    slugs[name] = { slug: p.slug, key: p.api_key };
  }
  const send = (dept, body) => webhook(`${srv.url}/webhooks/ivr/${slugs[dept].slug}`, slugs[dept].key, body);
  // Worked out by hand (docs/METRICS.md), T = 20 s, short abandons under 5 s:
  await send("Sales", call("s1", "completed", "10:00:00", "10:00:08", "10:03:08", "Asha")); // wait 8, talk 180
  await send("Sales", call("s2", "completed", "10:10:00", "10:10:25", "10:11:25", "Asha")); // wait 25, talk 60
  await send("Sales", call("s3", "abandoned", "10:20:00", null, "10:20:02")); // short abandon
  await send("Sales", call("s4", "abandoned", "10:30:00", null, "10:31:00", undefined, '=HYPERLINK("http://x","y")'));
  await send("Sales", call("s5", "no-answer", "11:15:00", null, "11:15:30")); // missed
  await send("Support", call("t1", "completed", "10:45:00", "10:45:20", "10:50:20", "Ravi")); // wait 20 = T, talk 300
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function tile(key) {
  return (await page.getByTestId(`kpi-${key}`).locator(".value").textContent()).trim();
}

async function waitTile(key, value) {
  await page.getByTestId(`kpi-${key}`).locator(".value").filter({ hasText: value }).waitFor();
}

test("a supervisor opens Analytics from the sidebar and sees the hand-computed figures", async () => {
  await api.post("/api/users", { username: "sup", password: "password-123", role: "supervisor", departments: [] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
  page = await ctx.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel("User name").fill("sup");
  await page.getByLabel("Password").fill("password-123");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Analytics" }).click();
  await page.getByRole("heading", { name: "Analytics" }).waitFor();
  await page.getByTestId("range-custom").click();
  await page.getByTestId("custom-from").fill("2026-03-02");
  await page.getByTestId("custom-to").fill("2026-03-02");
  await waitTile("offered", "6");
  assert.equal(await tile("answered"), "3");
  assert.equal(await tile("abandoned"), "1");
  assert.equal(await tile("short_abandoned"), "1");
  assert.equal(await tile("abandon_rate"), "20.0%"); // 1 / (6 - 1)
  assert.equal(await tile("service_level"), "40.0%"); // s1, t1 of 6 - 1
  assert.equal(await tile("asa_seconds"), "17.7 s"); // (8 + 25 + 20) / 3
  assert.equal(await tile("aht_seconds"), "180.0 s"); // (180 + 60 + 300) / 3
  assert.equal(await tile("callbacks_attempted"), "0 of 3");
  // Both charts are drawn (daily buckets for a one-day custom range: hourly).
  await page.getByTestId("chart-volume").locator("svg.recharts-surface").first().waitFor();
  await page.getByTestId("chart-service-level").locator("svg.recharts-surface").first().waitFor();
  // Agent performance and the agent-grouped view.
  const asha = page.getByTestId("agents").getByRole("row", { name: /Asha/ });
  assert.match(await asha.textContent(), /Asha2120\.0 s/);
  const ravi = page.getByTestId("agent-calls").getByRole("row", { name: /Ravi/ });
  assert.match(await ravi.textContent(), /Ravi.*1300\.0 s100\.0%/);
  // Each tile says what it counts, in the words of docs/METRICS.md.
  assert.equal(
    await page.getByTestId("kpi-abandon_rate").getAttribute("title"),
    "Abandon rate: abandoned ÷ (offered − short abandons)",
  );
  await shots(page, "analytics-all");
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    assert.deepEqual(await axeViolations(page), [], `axe (${scheme})`);
  }
  await page.emulateMedia({ colorScheme: "light" });
});

test("the department filter narrows every figure", async () => {
  await page.getByTestId("department").selectOption(slugs.Sales.slug);
  await waitTile("offered", "5");
  assert.equal(await tile("service_level"), "25.0%"); // s1 of 5 - 1
  assert.equal(await tile("abandon_rate"), "25.0%");
  assert.equal(await tile("asa_seconds"), "16.5 s");
  assert.equal(await tile("aht_seconds"), "120.0 s");
  assert.equal(await page.getByTestId("agents").getByRole("row", { name: /Ravi/ }).count(), 0);
  await shots(page, "analytics-sales");
});

test("Export CSV saves exactly the tables on screen", async () => {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-screen").click()]);
  assert.equal(dl.suggestedFilename(), "analytics-sales-2026-03-02-2026-03-02.csv");
  const text = readFileSync(await dl.path(), "utf8");
  assert.ok(text.startsWith("\uFEFFSummary\r\nMeasure,Value\r\n"), text.slice(0, 80));
  assert.ok(text.includes("\r\nOffered,5\r\n"));
  assert.ok(text.includes("\r\nService level (20 s),25.0%\r\n"));
  assert.ok(text.includes("\r\nAgent performance\r\n"));
  assert.ok(text.includes("\r\nAsha,2,120.0 s,,0,0,—\r\n"), text);
  assert.ok(!text.includes("Ravi"), "only what the screen shows");
});

test("Download calls saves the server's export: BOM, RFC 4180, formula cells defused", async () => {
  const [dl] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-calls").click()]);
  assert.match(dl.suggestedFilename(), /^calls-\d{8}T\d{6}Z\.csv$/);
  const buf = readFileSync(await dl.path());
  assert.deepEqual([...buf.subarray(0, 3)], [0xef, 0xbb, 0xbf], "a UTF-8 byte-order mark");
  const lines = buf.subarray(3).toString("utf8").trimEnd().split("\r\n");
  assert.ok(lines[0].startsWith("call_id,department,status,"));
  assert.equal(lines.length, 1 + 5, "the five Sales calls of the range");
  const s4 = lines.find((l) => l.startsWith("s4,"));
  assert.ok(s4.includes(`"'=HYPERLINK(""http://x"",""y"")"`), s4);
  assert.ok(s4.includes(",+919800000001,"), s4); // numbers are not formulas: no `'`
  // The export is in the audit log, with its row count.
  const audit = await api.get("/api/audit?action=calls.export");
  assert.equal(audit.data[0].actor, "sup");
  assert.equal(audit.data[0].details.rows, 5);
});

test("the Today preset shows today's calls", async () => {
  await webhook(`${srv.url}/webhooks/ivr/${slugs.Sales.slug}`, slugs.Sales.key, {
    data: { call_id: "today-1", caller: "98", status: "no-answer" },
  });
  await page.getByTestId("range-today").click();
  await waitTile("offered", "1");
  assert.equal(await tile("abandoned"), "0");
  assert.equal(await tile("service_level"), "0.0%");
  await shots(page, "analytics-today");
});
