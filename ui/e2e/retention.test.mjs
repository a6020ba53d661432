// Masters › Retention: the policy as a form, "Run now" (confirmed when it
// deletes), and the runs list following a run to its end. Real server, real
// Chromium.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  adminApi,
  axeAtBothSizes,
  launchBrowser,
  shots,
  startServer,
  webhook,
  signedIn as signIn,
} from "./harness.mjs";

let srv;
let browser;
let api;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  api = adminApi(srv.url);
  const p = await api.post("/api/providers", {
    name: "Front Desk",
    field_mapping: { call_id: "call_id", mobile_number: "caller", status: "status" },
    status_map: { completed: "completed" },
  });
  await webhook(`${srv.url}/webhooks/ivr/front-desk`, p.api_key, {
    call_id: "kept-1",
    caller: "+919800000001",
    status: "completed",
  });
  await api.post("/api/users", { username: "sara", password: "sara-password-1", role: "supervisor", departments: [] });
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const signedIn = (username, password) => signIn(browser, srv.url, username, password);

test("an admin sets the retention policy, runs it, and follows the run", async () => {
  const page = await signedIn("admin", srv.password);
  await page.getByRole("link", { name: "Retention" }).click();
  await page.getByRole("heading", { name: "Retention", level: 1 }).waitFor();

  // The defaults, in numbers and in words.
  const callsDays = page.getByLabel("Keep finished calls for (days)");
  assert.equal(await callsDays.inputValue(), "30");
  assert.equal(await page.getByLabel("Keep raw deliveries for (days)").inputValue(), "7");
  assert.ok(await page.getByLabel(/Move them and their dispositions to the archive/).isChecked());
  assert.match(
    await page.getByTestId("policy-text").innerText(),
    /^Finished calls older than 30 days are moved to the archive; raw deliveries older than 7 days are deleted\./,
  );
  // The archive: what is on the screens and what retention archived, as the
  // API counts them; nothing to download until something is archived.
  const archive = page.getByTestId("archive");
  const totals = await api.get("/api/retention/archive");
  assert.equal(totals.calls_live, 1);
  assert.equal(totals.calls_archived, 0);
  await archive.getByTestId("archive-totals").filter({ hasText: "1 call and 0 leads on the screens." }).waitFor();
  await archive.getByText("Nothing archived yet.").waitFor();
  assert.ok(await archive.getByTestId("archive-download").isDisabled());
  await archive.getByLabel("Created from").fill("2026-03-10");
  await archive.getByLabel("to (included)").fill("2026-03-01");
  await archive.getByText("The last day comes before the first.").waitFor();
  await archive.getByLabel("to (included)").fill("2026-03-31");
  await archive.getByText("The last day comes before the first.").waitFor({ state: "detached" });
  assert.deepEqual(await archive.getByLabel("Department").locator("option").allInnerTexts(), ["All", "Front Desk"]);

  // The daily run already ran once, at start.
  const runs = page.getByTestId("retention-runs");
  await runs.locator("tbody tr", { hasText: "Daily" }).first().waitFor();
  assert.equal(await runs.locator("tbody tr").count(), 1);

  // A bad number is said, and not sent.
  await callsDays.fill("thirty");
  await page.getByText("Write a whole number of days (0 or more).").waitFor();
  assert.ok(await page.getByRole("button", { name: "Save policy" }).isDisabled());

  await callsDays.fill("1");
  await page.getByLabel("Delete them for good").check();
  await page.getByLabel("Keep raw deliveries for (days)").fill("0");
  assert.match(
    await page.getByTestId("policy-text").innerText(),
    /^Finished calls older than 1 day are deleted; raw deliveries are kept\./,
  );
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  assert.deepEqual(await api.get("/api/settings/retention"), { calls_days: 1, mode: "delete", raw_days: 0 });
  await shots(page, "retention-01-policy");

  // Deleting is confirmed first; cancelling runs nothing.
  await page.getByRole("button", { name: "Run now" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete old calls now?" });
  await dialog.getByText("Deleted calls cannot be brought back.").waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
  assert.equal((await api.get("/api/retention/runs")).data.length, 1);

  await page.getByRole("button", { name: "Run now" }).click();
  await dialog.getByRole("button", { name: "Delete them" }).click();
  const manual = runs.locator("tbody tr", { hasText: "Manual (admin)" });
  await manual.waitFor();
  await runs.locator('tbody tr[data-state="done"]', { hasText: "Manual (admin)" }).waitFor({ timeout: 10_000 });
  assert.match(await manual.innerText(), /Finished calls older than 1 day are deleted/);
  assert.match(await manual.innerText(), /Done in/);
  const [latest] = (await api.get("/api/retention/runs")).data;
  assert.equal(latest.trigger, "manual");
  assert.equal(latest.calls_deleted, 0, "today's call is younger than a day");
  // What a run took, calls and the leads that went with them, as the API says.
  for (const name of ["Calls archived", "Calls deleted", "Leads archived", "Leads deleted", "Raw deleted"]) {
    await runs.getByRole("columnheader", { name, exact: true }).waitFor();
  }
  assert.deepEqual(
    await manual.locator("td.num").allInnerTexts(),
    [
      latest.calls_archived,
      latest.calls_deleted,
      latest.leads_archived,
      latest.leads_deleted,
      latest.raw_events_deleted,
    ].map(String),
  );
  assert.equal((await api.get("/api/calls?q=kept-1")).data.length, 1, "and is still there");
  await shots(page, "retention-02-runs");
  assert.deepEqual(await axeAtBothSizes(page), []);
});

test("a supervisor has no retention screen", async () => {
  const page = await signedIn("sara", "sara-password-1");
  assert.equal(await page.getByRole("link", { name: "Retention" }).count(), 0);
  await page.goto(`${srv.url}/masters/retention`);
  await page.waitForURL((u) => !u.pathname.startsWith("/masters/retention"));
});
