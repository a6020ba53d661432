// The console with many rows (issue 17): frame timing of the live queue while
// it is scrolled with ten thousand calls in it and webhooks arrive, against
// the same scroll with no webhooks and an empty page's frame rate (the
// machine's ceiling); and how long a status change takes to reach a row on
// screen, against the bare WebSocket message in the same page.
//   (cd ui && npx vite build) &&
//   CALLBOARD_BIN=target/release/callboard node ui/e2e/bench-frames.mjs \
//     [--rows 10000] [--rate 200] [--seconds 10] [--min-fps 50] [--max-update-ms 100]
// More knobs: --speed (scroll, px/s, 2000: about a row a frame), --sample-every
// (every Nth status change goes to a row on screen, 10), --concurrency (set-up
// webhooks in flight, 32), --ceiling-seconds (3), --sort started|status,
// --profile FILE (the page's CPU profile under events, and its top functions).
//
// The table is sorted by "Started" (a click on its header, as a supervisor
// may) unless `--sort status`: under the default sort by status a status
// change moves its row to another block of the ten thousand, off screen, so
// no row update could be watched in place. Both rebuild and sort the whole
// row model on each event; the sort by Started costs more per comparison
// (TanStack picks its alphanumeric sort for the time strings).
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, adminApi, launchBrowser, signedIn, startServer, webhook } from "./harness.mjs";

const opts = {
  rows: 10_000,
  rate: 200,
  seconds: 10,
  "min-fps": 50,
  "max-update-ms": 100,
  speed: 2000,
  "sample-every": 10,
  concurrency: 32,
  "ceiling-seconds": 3,
  sort: "started",
  profile: "",
};
for (let i = 2; i < process.argv.length; i++) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(process.argv[i]);
  if (!m || !(m[1] in opts))
    throw new Error(`unknown argument ${process.argv[i]}; known: --${Object.keys(opts).join(" --")}`);
  const value = m[2] ?? process.argv[++i];
  opts[m[1]] = typeof opts[m[1]] === "number" ? Number(value) : value;
  if (Number.isNaN(opts[m[1]])) throw new Error(`--${m[1]} wants a number`);
}
if (!["started", "status"].includes(opts.sort)) throw new Error("--sort is started or status");

const VIEWPORT = { width: 1280, height: 720 };
const ROW_HEIGHT = 38; // CallTable's fixed row height
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---- the calls, as the bench knows them --------------------------------------
// Live calls by status, each an array with O(1) removal (swap with the last).
const pools = { waiting: [], ringing: [], active: [] };
const where = new Map();
const busy = new Set(); // a webhook for the call is in flight: send no other
let nextId = 0;
let seed = 17;
const random = () => {
  // mulberry32: the same run of events each time
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const put = (id, status) => {
  where.set(id, { status, i: pools[status].length });
  pools[status].push(id);
};
const take = (id) => {
  const at = where.get(id);
  const pool = pools[at.status];
  const last = pool.pop();
  if (last !== id) {
    pool[at.i] = last;
    where.get(last).i = at.i;
  }
  where.delete(id);
};
const liveCount = () => pools.waiting.length + pools.ringing.length + pools.active.length;
const callerOf = (id) => `+9198${String(Number(id.slice(1))).padStart(8, "0")}`;
const NEXT = { waiting: "ringing", ringing: "active", active: "completed" };

/** The call moves on (the model first, so no later event picks it twice). */
function step(id) {
  const status = NEXT[where.get(id).status];
  take(id);
  if (status !== "completed") put(id, status);
  return { id, status };
}
function newCall() {
  const id = `B${nextId++}`;
  put(id, "waiting");
  return { id, status: "waiting" };
}
function pick(pool) {
  for (let tries = 0; tries < 8 && pool.length; tries++) {
    const id = pool[Math.floor(random() * pool.length)];
    if (!busy.has(id)) return id;
  }
  return null;
}
/** waiting → ringing or ringing → active of a random call. */
function randomStep() {
  const w = pools.waiting.length;
  const id = pick(random() * (w + pools.ringing.length) < w ? pools.waiting : pools.ringing);
  return id ? step(id) : null;
}
function endCall() {
  const id = pick(pools.active);
  return id ? step(id) : null;
}

// ---- webhooks -----------------------------------------------------------------
let hook;
let hookErrors = 0;
/** Sends one webhook; `sink` gets the event with the time it was sent once it is answered. */
async function send(ev, sink) {
  busy.add(ev.id);
  const sent = clock();
  try {
    await webhook(hook.url, hook.key, { data: { call_id: ev.id, caller: callerOf(ev.id), status: ev.status } });
    sink?.push({ ...ev, sent });
  } catch (e) {
    if (++hookErrors <= 3) log(`webhook ${ev.id} ${ev.status}: ${e.message}`);
  } finally {
    busy.delete(ev.id);
  }
}

/** `opts.rate` webhooks a second for `ms`: per twenty, one new call, one call
 * ending (the queue keeps its size), eighteen status changes; every
 * `sample-every`th status change is of a call `candidates()` says is on
 * screen, when it names one. */
async function drive(ms, candidates) {
  const events = [];
  const samples = [];
  let noCandidate = 0;
  let changes = 0;
  const inflight = new Set();
  const errors0 = hookErrors;
  const t0 = performance.now();
  for (let sent = 0; ;) {
    const elapsed = performance.now() - t0;
    if (elapsed >= ms) break;
    for (const due = Math.floor((elapsed * opts.rate) / 1000); sent < due; sent++) {
      let ev = null;
      let sink = events;
      if (sent % 20 === 7) ev = newCall();
      else if (sent % 20 === 17) ev = endCall();
      else if (candidates && ++changes % opts["sample-every"] === 0) {
        const id = candidates().find((c) => !busy.has(c) && ["waiting", "ringing"].includes(where.get(c)?.status));
        if (id) {
          ev = step(id);
          sink = samples;
        } else noCandidate++;
      }
      ev ??= randomStep() ?? newCall();
      const p = send(ev, sink).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await sleep(4);
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - t0) / 1000;
  const errors = hookErrors - errors0;
  return { events, samples, noCandidate, errors, rate: (events.length + samples.length + errors) / seconds };
}

// ---- the machine --------------------------------------------------------------
/** Busy share of all CPUs between two /proc/stat readings. */
function cpuTimes() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}
const busyShare = (a, b) => 1 - (b.idle - a.idle) / (b.total - a.total);

// ---- frames -------------------------------------------------------------------
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
/** rAF timestamps → frame rate and frame intervals. The timestamps are
 * vsync-aligned, so a frame on time is 16.6–16.8 ms: "> 16.7 ms" counts
 * intervals over 17.5 ms (one vsync missed), "> 33 ms" over 34 ms. */
function frameStats(times, loaf = [], extra = {}, end = times.at(-1)) {
  const iv = times.slice(1).map((t, i) => t - times[i]);
  // A page still frozen when the window closes: that frame is as long as the wait so far.
  if (end - times.at(-1) > 17.5) iv.push(end - times.at(-1));
  const span = end - times[0];
  return {
    frames: iv.length,
    fps: ((times.length - 1) / span) * 1000,
    p50: pct(iv, 0.5),
    p95: pct(iv, 0.95),
    p99: pct(iv, 0.99),
    over16: iv.filter((d) => d > 17.5).length,
    over33: iv.filter((d) => d > 34).length,
    max: Math.max(...iv),
    loaf: loaf.length,
    blocking: loaf.reduce((a, e) => a + e.blocking, 0),
    ...extra,
  };
}

/** An empty page's frame rate: what this machine's headless Chromium gives. */
async function ceiling(browser, ms, during) {
  const ctx = await browser.newContext({ viewport: VIEWPORT });
  const page = await ctx.newPage();
  await page.goto("about:blank");
  await page.evaluate(() => {
    window.__times = [];
    const tick = (ts) => {
      if (window.__times) window.__times.push(ts);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const cpu0 = cpuTimes();
  const load = await (during ? during(ms) : sleep(ms));
  const times = await page.evaluate(() => {
    const t = window.__times;
    window.__times = null;
    return t;
  });
  const cpu = busyShare(cpu0, cpuTimes());
  await ctx.close();
  return { ...frameStats(times, [], { cpu }), load };
}

/** Runs in the console page: the scroll, the frame recorder, the watch on
 * the rows' status badges and a bare WebSocket on `/api/events`. */
function instrument(ROW) {
  const now = () => performance.timeOrigin + performance.now();
  const b = {
    rec: null,
    scroll: null,
    loaf: [],
    updated: new Map(), // "id|status" → when a row on screen changed to it
    painted: new Map(), // "id|status" → the next animation frame after that
    ws: new Map(), // "id|status" → when the bare WebSocket brought it
    toPaint: [],
    head: 0,
  };
  window.__bench = b;
  const grid = () => document.querySelector('[data-testid="grid"]');
  const tick = (ts) => {
    if (b.toPaint.length) {
      const t = now();
      for (const k of b.toPaint) b.painted.set(k, t);
      b.toPaint = [];
    }
    const s = b.scroll;
    const g = s && grid();
    if (g) {
      if (s.last !== null) {
        // Anyone else moving the table (more than scroll anchoring's row) is
        // the console scrolling by itself under the user's hand.
        if (b.rec && Math.abs(g.scrollTop - s.written) > 2 * ROW)
          b.rec.yanks.push({ t: ts, to: Math.round(g.scrollTop) });
        const max = g.scrollHeight - g.clientHeight;
        s.pos += (s.dir * s.speed * (ts - s.last)) / 1000;
        if (s.pos >= max) [s.pos, s.dir] = [max, -1];
        else if (s.pos <= 0) [s.pos, s.dir] = [0, 1];
        g.scrollTop = s.pos;
        s.written = g.scrollTop;
      }
      s.last = ts;
    }
    if (b.rec) b.rec.times.push(ts);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);

  // A row shows a status when its badge changes to it, or a new badge is put
  // in it (the console remounts its cells on each render), or the row is put
  // on screen with it (it had scrolled out, or the table jumped).
  const shows = (badge, t) => {
    const id = badge?.closest("tr[data-call-id]")?.getAttribute("data-call-id");
    const status = badge && [...badge.classList].find((c) => c !== "status");
    const k = `${id}|${status}`;
    if (id && !b.updated.has(k)) {
      b.updated.set(k, t);
      b.toPaint.push(k);
    }
  };
  new MutationObserver((records) => {
    const t = now();
    for (const r of records) {
      if (r.type === "attributes") {
        if (r.target.classList?.contains("status")) shows(r.target, t);
      } else
        for (const n of r.addedNodes)
          if (n.nodeType === Node.ELEMENT_NODE)
            shows(n.classList.contains("status") ? n : n.querySelector(".status"), t);
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });

  for (const type of ["long-animation-frame", "longtask"]) {
    if (!PerformanceObserver.supportedEntryTypes.includes(type)) continue;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        b.loaf.push({
          type,
          start: e.startTime,
          duration: e.duration,
          blocking: e.blockingDuration ?? Math.max(0, e.duration - 50),
          scripts: (e.scripts ?? []).map((s) => ({
            invoker: s.invoker,
            fn: s.sourceFunctionName,
            src: `${s.sourceURL.split("/").pop()}:${s.sourceCharPosition}`,
            duration: s.duration,
          })),
        });
    }).observe({ type });
  }

  b.reset = () => {
    const g = grid();
    b.head = g.querySelector("thead").offsetHeight;
    b.scroll = null;
    g.scrollTop = 0;
  };
  b.begin = (speed) => {
    b.scroll = { speed, pos: 0, dir: 1, last: null, written: 0 };
    b.rec = { times: [], yanks: [], t0: performance.now() };
  };
  b.end = () => {
    const r = b.rec;
    b.rec = null;
    b.scroll = null;
    r.t1 = performance.now();
    return r;
  };
  /** Long frames and tasks between t0 and t1 (asked a while later: the
   * observer's callbacks wait behind a busy page). */
  b.long = (t0, t1) => ({
    loaf: b.loaf.filter((e) => e.type === "long-animation-frame" && e.start >= t0 && e.start < t1),
    longtasks: b.loaf.filter((e) => e.type === "longtask" && e.start >= t0 && e.start < t1).length,
  });
  /** Call ids of the rows in the half of the viewport the scroll moves
   * towards: on screen now, and still rendered a few hundred ms later. */
  b.visible = () => {
    const g = grid();
    const first = Math.ceil(g.scrollTop / ROW);
    const last = Math.floor((g.scrollTop + g.clientHeight - b.head) / ROW) - 1;
    const mid = (first + last) >> 1;
    const [lo, hi] = (b.scroll?.dir ?? 1) > 0 ? [mid, last] : [first, mid];
    const ids = [];
    for (const tr of g.querySelectorAll("tr[data-call-id]")) {
      const i = Number(tr.getAttribute("aria-rowindex")) - 1;
      if (i >= lo && i <= hi) ids.push(tr.getAttribute("data-call-id"));
    }
    return ids;
  };
  b.results = () => ({ updated: [...b.updated], painted: [...b.painted], ws: [...b.ws] });

  // The page's session cookie signs the stream in, as it does the console's own.
  const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/events`);
  ws.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.type !== "call.upserted") return;
    const k = `${ev.data.call_id}|${ev.data.status}`;
    if (!b.ws.has(k)) b.ws.set(k, now());
  };
  return new Promise((r) => (ws.onopen = r));
}

/** A bare WebSocket on `/api/events` in a page of its own (its own renderer
 * process, nothing else to do): when the server's events reach a client. */
async function idleSocket(browser, base) {
  // Not the console: a JSON page of the origin, its API policy (default-src 'none') set aside.
  const page = await (await browser.newContext({ bypassCSP: true })).newPage();
  await page.goto(`${base}/healthz`);
  await page.evaluate((token) => {
    window.__ws = new Map();
    const ws = new WebSocket(`${location.origin.replace("http", "ws")}/api/events?token=${token}`);
    ws.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      const k = `${ev.data?.call_id}|${ev.data?.status}`;
      if (ev.type === "call.upserted" && !window.__ws.has(k))
        window.__ws.set(k, performance.timeOrigin + performance.now());
    };
    return new Promise((r, e) => ([ws.onopen, ws.onerror] = [r, () => e(new Error("idle socket refused"))]));
  }, ADMIN_TOKEN);
  return page;
}

/** Page clock minus this process's clock, from the round trip with the least delay. */
async function clockOffset(page) {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 7; i++) {
    const t0 = clock();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = clock();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: p - (t0 + t1) / 2 };
  }
  return best;
}

/** The scroll for `ms` from the top of the table, `during` running beside it. */
async function scrollPhase(page, ms, during) {
  await page.evaluate(() => window.__bench.reset());
  await sleep(500);
  let on = true;
  let candidates = [];
  const poll = (async () => {
    while (on) {
      candidates = await page.evaluate(() => window.__bench.visible());
      await sleep(100);
    }
  })();
  const cpu0 = cpuTimes();
  await page.evaluate((speed) => window.__bench.begin(speed), opts.speed);
  const load = await (during ? during(ms, () => candidates) : sleep(ms));
  const rec = await page.evaluate(() => window.__bench.end());
  const cpu = busyShare(cpu0, cpuTimes());
  on = false;
  await poll;
  await sleep(1000);
  Object.assign(rec, await page.evaluate(([t0, t1]) => window.__bench.long(t0, t1), [rec.t0, rec.t1]));
  // Frames of the nominal window only (a page behind the events answers late).
  const end = rec.t0 + ms;
  const times = rec.times.filter((t) => t <= end);
  rec.loaf = rec.loaf.filter((e) => e.start <= end);
  const yanks = rec.yanks.filter((y) => y.t <= end).map((y) => y.to);
  const wall = (rec.t1 - rec.t0) / 1000;
  return { ...frameStats(times, rec.loaf, { cpu, wall, yanks }, end), rec, load };
}

/** Writes the profile to `--profile` and prints the functions with the most self time. */
function topFunctions(profile) {
  writeFileSync(opts.profile, JSON.stringify(profile));
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = (profile.endTime - profile.startTime) / profile.samples.length / 1000;
  for (const id of profile.samples) {
    const { functionName, url, lineNumber, columnNumber } = byId.get(id).callFrame;
    const k = `${functionName || "(anonymous)"} ${url.split("/").pop()}:${lineNumber + 1}:${columnNumber + 1}`;
    self.set(k, (self.get(k) ?? 0) + dt);
  }
  const total = profile.samples.length * dt;
  log(`profile in ${opts.profile}; self time of ${total.toFixed(0)} ms:`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
    log(`  ${v.toFixed(0).padStart(6)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
}

// ---- the run ------------------------------------------------------------------
const bin =
  process.env.CALLBOARD_BIN ?? resolve(dirname(fileURLToPath(import.meta.url)), "../../target/debug/callboard");
const started = Date.now();
let failed = false;
const srv = await startServer();
let browser;
try {
  log(`server ${bin} (built ${statSync(bin).mtime.toISOString()}) at ${srv.url}`);
  const p = await adminApi(srv.url).post("/api/providers", {
    name: "Bench",
    field_mapping: { call_id: "data.call_id", mobile_number: "data.caller", status: "data.status" },
    status_map: { ringing: "ringing" },
  });
  hook = { url: p.webhook_url.replace("localhost", "127.0.0.1"), key: p.api_key };
  const dept = p.slug;

  // 1. ten thousand live calls, a third each waiting, ringing, active
  const statuses = ["waiting", "ringing", "active"];
  const t0 = performance.now();
  let cursor = 0;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (cursor < opts.rows) {
        const n = cursor++;
        const id = `B${nextId++}`;
        put(id, statuses[n % 3]);
        await send({ id, status: statuses[n % 3] });
      }
    }),
  );
  const seedSeconds = (performance.now() - t0) / 1000;
  if (hookErrors) throw new Error(`${hookErrors} set-up webhooks failed`);
  log(`${opts.rows} calls in ${seedSeconds.toFixed(1)} s (${(opts.rows / seedSeconds).toFixed(0)}/s)`);

  // 2. the ceiling: an empty page, idle and while the server ingests
  browser = await launchBrowser();
  const blank = await ceiling(browser, opts["ceiling-seconds"] * 1000);
  const blankLoaded = await ceiling(browser, opts["ceiling-seconds"] * 1000, (ms) => drive(ms));
  log(`ceiling ${blank.fps.toFixed(1)} fps idle, ${blankLoaded.fps.toFixed(1)} fps with the server ingesting`);

  // 3. the console at /live/<department>, signed in, every call loaded
  const page = await signedIn(browser, srv.url, "admin", srv.password, VIEWPORT);
  await page.goto(`${srv.url}/live/${dept}`);
  await page.getByTestId("connection").filter({ hasText: "Live" }).waitFor();
  const n = liveCount();
  await page
    .getByTestId("live-count")
    .filter({ hasText: `${n} of ${n} calls` })
    .waitFor({ timeout: 120_000 });
  if (opts.sort === "started") {
    await page.locator("th button", { hasText: "Started" }).click();
    await page.locator('th[aria-sort="ascending"]', { hasText: "Started" }).waitFor();
  }
  await page.evaluate(instrument, ROW_HEIGHT);
  const offset = await clockOffset(page);
  const idlePage = await idleSocket(browser, srv.url);
  const idleOffset = await clockOffset(idlePage);
  log(`console loaded ${n} rows; page clock offset ${offset.offset.toFixed(1)} ms (rtt ${offset.rtt.toFixed(1)} ms)`);
  await sleep(1000);

  // 4. the scroll with no events, then with `rate` events a second
  const idle = await scrollPhase(page, opts.seconds * 1000);
  log(`scroll, no events: ${idle.fps.toFixed(1)} fps`);
  const cdp = opts.profile && (await page.context().newCDPSession(page));
  if (cdp) {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
    await cdp.send("Profiler.start");
  }
  const loaded = await scrollPhase(page, opts.seconds * 1000, drive);
  if (cdp) topFunctions((await cdp.send("Profiler.stop")).profile);
  log(`scroll, ${opts.rate} events/s: ${loaded.fps.toFixed(1)} fps`);
  // The page may be behind: wait until the bare socket has the last event,
  // then a second for the console to draw it.
  const last = [...loaded.load.events, ...loaded.load.samples].sort((a, b) => b.sent - a.sent)[0];
  const caughtUp = await page
    .waitForFunction((k) => window.__bench.ws.has(k), `${last.id}|${last.status}`, { timeout: 120_000, polling: 200 })
    .then(() => (clock() - last.sent) / 1000)
    .catch(() => null);
  await sleep(1000);

  // 5. row updates: webhook → WebSocket message, → status in the row, → next frame
  const seen = await page.evaluate(() => window.__bench.results());
  const [updated, painted, ws] = [new Map(seen.updated), new Map(seen.painted), new Map(seen.ws)];
  const idleWs = new Map(await idlePage.evaluate(() => [...window.__ws]));
  const since = (m, e) => m.get(`${e.id}|${e.status}`) - (m === idleWs ? idleOffset : offset).offset - e.sent;
  const { samples, events } = loaded.load;
  // A sampled row that never showed its new status counts as never (∞).
  const never = (m, list = samples) => list.map((e) => (m.has(`${e.id}|${e.status}`) ? since(m, e) : Infinity));
  const got = (m, list) => list.filter((e) => m.has(`${e.id}|${e.status}`)).map((e) => since(m, e));
  const dom = never(updated);
  const frame = never(painted);
  // Events the console's page had not received by the end count as never, too.
  const wsSamples = never(ws);
  const wsAll = never(ws, [...events, ...samples]);
  const idleAll = got(idleWs, [...events, ...samples]);
  const idleSamples = got(idleWs, samples);

  // ---- the report ----
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : x === Infinity ? "never" : "–");
  const ratio = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "–");
  const share = (k, s) => `${s[k]} (${((100 * s[k]) / s.frames).toFixed(1)} %)`;
  const cols = [blank, blankLoaded, idle, loaded];
  const row = (name, fn, last = "") => `| ${name} | ${cols.map(fn).join(" | ")} | ${last} |`;
  const r = (k) => ratio(loaded[k], idle[k]);
  const out = [
    "",
    `Callboard live queue, ${n} rows at ${VIEWPORT.width}×${VIEWPORT.height}, headless Chromium ${browser.version()}, ` +
      `scroll ${opts.speed} px/s for ${opts.seconds} s, sort: ${opts.sort}; set-up ${opts.rows} webhooks in ` +
      `${seedSeconds.toFixed(1)} s at ${opts.concurrency} in flight; server ${bin.replace(/.*\/target\//, "target/")}`,
    "",
    `| | about:blank | about:blank, server ingesting ${opts.rate}/s | live table scroll, no events | live table scroll, ${opts.rate} events/s | with events ÷ without |`,
    "|---|---|---|---|---|---|",
    row("fps", (s) => f1(s.fps), r("fps")),
    row(
      "frame interval p50 / p95 / p99 (ms)",
      (s) => `${f1(s.p50)} / ${f1(s.p95)} / ${f1(s.p99)}`,
      r("p99") + " (p99)",
    ),
    row("frames > 16.7 ms", (s) => share("over16", s), idle.over16 ? r("over16") : ""),
    row("frames > 33 ms", (s) => share("over33", s), idle.over33 ? r("over33") : ""),
    row("longest frame (ms)", (s) => f1(s.max), r("max")),
    row(
      "long animation frames, blocking ms",
      (s) => (s === blank || s === blankLoaded ? "" : `${s.loaf}, ${s.blocking.toFixed(0)}`),
      "",
    ),
    row("table scrolled by itself", (s) => (s.yanks ? `${s.yanks.length}` : ""), ""),
    row("recorded for (s)", (s) => f1(s.wall ?? opts["ceiling-seconds"]), ""),
    row("webhooks/s sent (errors)", (s) => (s.load ? `${f1(s.load.rate)} (${s.load.errors})` : "0"), ""),
    row("CPU busy, all cores", (s) => `${(100 * s.cpu).toFixed(0)} %`, ""),
    "",
    `| webhook → (status changes of rows on screen, 1 in ${opts["sample-every"]}) | n | p50 (ms) | p99 (ms) | max (ms) |`,
    "|---|---|---|---|---|",
    ...[
      ["WebSocket message, a page of its own (the server)", idleSamples],
      [`… every event`, idleAll],
      ["WebSocket message in the console's page (baseline)", wsSamples],
      [`… every event`, wsAll],
      ["row's status changed in the DOM", dom],
      ["next animation frame after it", frame],
    ].map(([k, xs]) => {
      const shown = xs.filter(Number.isFinite).length;
      return `| ${k} | ${shown === xs.length ? shown : `${shown} of ${xs.length}`} | ${f1(pct(xs, 0.5))} | ${f1(pct(xs, 0.99))} | ${f1(Math.max(...xs))} |`;
    }),
    `| ratio DOM ÷ WebSocket in the console's page | | ${ratio(pct(dom, 0.5), pct(wsSamples, 0.5))} | ${ratio(pct(dom, 0.99), pct(wsSamples, 0.99))} | |`,
    "",
  ];
  const lost = dom.filter((x) => x === Infinity).length;
  if (lost) out.push(`${lost} of ${samples.length} sampled rows scrolled out before they showed their new status.`);
  if (loaded.load.noCandidate)
    out.push(`${loaded.load.noCandidate} samples found no row on screen to change (a random call changed instead).`);
  // How fast the console's page took the events in: those it had, over the
  // time from the first sent to the last it had.
  const all = [...events, ...samples];
  const had = all.filter((e) => ws.has(`${e.id}|${e.status}`));
  const lastHad = Math.max(...had.map((e) => ws.get(`${e.id}|${e.status}`))) - offset.offset;
  const drained = (lastHad - Math.min(...all.map((e) => e.sent))) / 1000;
  if (had.length)
    out.push(
      `${
        caughtUp === null
          ? `The console's page had ${had.length} of ${all.length} events 2 minutes after the last was sent`
          : `The console's page had the last event ${caughtUp.toFixed(1)} s after it was sent`
      }: it took them in at ${(had.length / drained).toFixed(1)}/s (${had.length} in ${drained.toFixed(1)} s).`,
    );
  if (loaded.yanks.length)
    out.push(
      `The table jumped away from the scroll position ${loaded.yanks.length} times under events ` +
        `(to scrollTop ${[...new Set(loaded.yanks)].slice(0, 5).join(", ")}…), ${idle.yanks.length} times without.`,
    );
  // Where the long frames went: the scripts LoAF names, by total time.
  const by = new Map();
  for (const e of loaded.rec.loaf)
    for (const s of e.scripts) by.set(`${s.invoker} (${s.src})`, (by.get(`${s.invoker} (${s.src})`) ?? 0) + s.duration);
  if (by.size)
    out.push(
      `Long animation frames under events, script time by entry point: ${[...by]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
        .join("; ")}.`,
    );
  out.push(`Load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}.`, "");

  const floors = [
    [`fps under events ${f1(loaded.fps)} ≥ ${opts["min-fps"]}`, loaded.fps >= opts["min-fps"]],
    [`row update p99 ${f1(pct(dom, 0.99))} ms ≤ ${opts["max-update-ms"]} ms`, pct(dom, 0.99) <= opts["max-update-ms"]],
  ];
  for (const [text, ok] of floors) {
    out.push(`${ok ? "ok  " : "FAIL"} ${text}`);
    failed ||= !ok;
  }
  console.log(out.join("\n"));
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  // The server stops even when closing the browser throws (it reports
  // content-policy refusals then).
  try {
    await browser?.close();
  } finally {
    await srv.stop();
  }
}
process.exit(failed ? 1 : 0);
