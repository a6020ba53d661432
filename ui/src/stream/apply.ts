// Stream events patched into the query cache: the live queue changes row by
// row; lists whose membership depends on server-side filters are refetched,
// coalesced so a burst of events costs one request per list.
//
// Call events are gathered and patched into the live lists together, once
// per animation frame at most: with ten thousand live calls and hundreds of
// events a second, each new list costs a copy of the list and a render, so
// the console pays for it once a frame, not once per event, and the frame
// that makes the patch shows it.
import {
  defaultScheduler,
  notifyManager,
  replaceEqualDeep,
  type QueryClient,
  type QueryKey,
} from "@tanstack/react-query";
import { keys } from "../api/keys";
import type { components } from "../api/schema";
import type { Call, Lead, LeadDetail, Provider } from "../api/types";
import { deltaOf, recordDelta } from "../lib/listDelta";

type ProviderChanged = components["schemas"]["Provider"];
import type { StreamEvent } from "./stream";

/** A page that draws no frames (a hidden tab) gets the patch after this (ms). */
export const NO_FRAME_MS = 100;
/** Under a busy stream (more than BUSY_PER_S call events a second), the
 * counts over every call (stats, worklists, the agent board) are asked again
 * at most this often (ms): each answer costs the server a pass over its
 * calls, and asked five times a second with ten thousand live calls it took
 * the server's time from delivering events. A quiet stream keeps 200 ms. */
export const SLOW_MS = 1000;
export const BUSY_PER_S = 20;

// The query cache tells its observers of a change on a later task (setTimeout
// 0). A patch made at an animation frame is told at once instead, so React
// renders it before that frame is drawn, not after it.
let direct = false;
notifyManager.setScheduler((cb) => (direct ? cb() : defaultScheduler(cb)));

/** Runs `cb` at the next animation frame; returns its cancel. */
function atNextFrame(cb: () => void): () => void {
  if (typeof requestAnimationFrame !== "function") {
    const t = setTimeout(cb, 16);
    return () => clearTimeout(t);
  }
  const id = requestAnimationFrame(cb);
  return () => cancelAnimationFrame(id);
}

/** Whether a call belongs in the live queue. */
export function isLive(c: Call): boolean {
  if (c.status === "waiting" || c.status === "ringing" || c.status === "active") return true;
  return c.status === "missed" && c.work_state === "pending";
}

export function callKey(c: Pick<Call, "department" | "call_id">): string {
  return `${c.department}\u0000${c.call_id}`;
}

/** Each patched list's calls by key, so the next patch finds a call without
 * a scan. It belongs to the one array it describes: a list the cache got
 * some other way (a fetch) is indexed afresh. */
const indexes = new WeakMap<readonly Call[], Map<string, Call>>();
/** Whether `list` came from patchLiveBatch (see `liveSharing`): every call
 * in it is the previous list's object or a newer one, so comparing it with
 * the previous list (structural sharing) would find nothing to share. */
export function isPatchedList(list: unknown): boolean {
  return Array.isArray(list) && deltaOf(list as Call[]) !== undefined;
}

function indexOf(list: readonly Call[]): Map<string, Call> {
  let index = indexes.get(list);
  if (!index) {
    index = new Map();
    // The first of a key wins, as a scan from the front would find it.
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i];
      if (c) index.set(callKey(c), c);
    }
  }
  return index;
}

/** Up to this many changed calls, a patch finds each by a scan of the list. */
const FEW = 16;

/** Upserts or removes `calls` (at most one per key, in the order they came)
 * in a live-queue list in one pass. A call older than the listed one is
 * ignored; a call that left the live queue (or is of another department) is
 * removed; a new live call goes on top, the latest first. Returns `list`
 * itself when nothing changed, else a new array. */
export function patchLiveBatch(list: readonly Call[], calls: Iterable<Call>, department: string): Call[] {
  const index = indexOf(list);
  const replaced = new Map<Call, Call | null>();
  const added: Call[] = [];
  const addedHere = new Set<Call>();
  for (const call of calls) {
    const belongs = isLive(call) && (department === "all" || call.department === department);
    const key = callKey(call);
    const old = index.get(key);
    if (!old) {
      if (belongs) {
        added.push(call);
        addedHere.add(call);
        index.set(key, call);
      }
      continue;
    }
    if (old.version > call.version) continue;
    if (belongs) index.set(key, call);
    else index.delete(key);
    if (addedHere.has(old)) {
      // Added in this same batch (two events of one call in `calls`).
      const i = added.indexOf(old);
      addedHere.delete(old);
      if (belongs) {
        added[i] = call;
        addedHere.add(call);
      } else added.splice(i, 1);
    } else replaced.set(old, belongs ? call : null);
  }
  if (added.length === 0 && replaced.size === 0) {
    indexes.set(list, index);
    return list as Call[];
  }
  // On top, the latest first.
  const prepended = added.reverse();
  let next: Call[] | null = null;
  if (replaced.size <= FEW) {
    // A few changes: each found by the engine's own scan, the copy made by it too.
    next = list.slice();
    for (const [old, r] of replaced) {
      const i = next.indexOf(old);
      if (i < 0) {
        next = null;
        break;
      }
      if (r) next[i] = r;
      else next.splice(i, 1);
    }
    if (next && prepended.length) next = prepended.concat(next);
  }
  if (!next) {
    next = prepended.slice();
    for (const c of list) {
      const r = replaced.get(c);
      if (r === undefined) next.push(c);
      else if (r !== null) next.push(r);
    }
  }
  indexes.delete(list);
  indexes.set(next, index);
  // What changed, for the grid's sort (lib/listDelta.ts).
  recordDelta(next, list, replaced, prepended);
  return next;
}

/** Upserts or removes `call` in a live-queue list. Returns a new array. */
export function patchLive(list: Call[], call: Call, department: string): Call[] {
  return patchLiveBatch(list, [call], department);
}

/** The live queue's `structuralSharing`: a list the stream patched is taken
 * as it is; a fetched one shares what it can with the list before it. */
export function liveSharing(old: unknown, next: unknown): unknown {
  return isPatchedList(next) ? next : replaceEqualDeep(old, next);
}

/** Merges a `provider.changed` event into a list. The event carries the
 * provider without its view fields (`webhook_url`): a provider not yet in the
 * list arrives with the refetch that follows. */
export function patchProviders(list: Provider[], p: ProviderChanged): Provider[] {
  const i = list.findIndex((x) => x.id === p.id);
  if (i === -1) return list;
  const next = list.map((x, j) => (j === i ? { ...x, ...p } : x));
  return next.sort((a, b) => a.display_order - b.display_order || a.name.localeCompare(b.name));
}

export class CacheApplier {
  private pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Call events not yet in the live lists: the newest version per call. */
  private calls = new Map<string, Call>();
  /** Cancels the frame asked for. */
  private flushFrame: (() => void) | null = null;
  /** The patch for a page that draws no frames. */
  private flushLate: ReturnType<typeof setTimeout> | null = null;
  private slowTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private slowLast = new Map<string, number>();
  /** Call events in the current second, and in the one before. */
  private rate = { since: 0, count: 0, before: 0 };
  private readonly qc: QueryClient;

  constructor(qc: QueryClient) {
    this.qc = qc;
  }

  /** Patches the live lists with the call events gathered so far. */
  flush(): void {
    this.unschedule();
    if (this.calls.size === 0) return;
    const calls = [...this.calls.values()];
    this.calls.clear();
    direct = true;
    try {
      notifyManager.batch(() => {
        for (const [key, list] of this.qc.getQueriesData<Call[]>({ queryKey: keys.live })) {
          const dept = String((key as unknown[])[1] ?? "all");
          if (list) {
            const next = patchLiveBatch(list, calls, dept);
            if (next !== list) this.qc.setQueryData(key, next);
          }
          // A list still loading would land without these calls (its answer
          // was made before the events): fetch it again once it is in.
          if (!list || this.qc.getQueryState(key)?.fetchStatus === "fetching") this.later(key);
        }
      });
    } finally {
      direct = false;
    }
  }

  /** The next patch: at the next animation frame. */
  private schedule(): void {
    if (this.flushFrame) return;
    this.flushFrame = atNextFrame(() => {
      this.flushFrame = null;
      this.flush();
    });
    this.flushLate = setTimeout(() => this.flush(), NO_FRAME_MS);
  }

  private unschedule(): void {
    if (this.flushLate) clearTimeout(this.flushLate);
    this.flushFrame?.();
    this.flushLate = null;
    this.flushFrame = null;
  }

  /** Drops what is still waiting (the stream stopped). */
  stop(): void {
    this.unschedule();
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.slowTimers.values()) clearTimeout(t);
    this.slowTimers.clear();
    this.timer = null;
    this.calls.clear();
    this.pending.clear();
  }

  apply(ev: StreamEvent): void {
    switch (ev.type) {
      case "call.upserted":
      case "call.sla_breached":
        this.call(ev.data);
        break;
      case "agent.state_changed":
        this.later(keys.agents);
        break;
      case "disposition.saved": {
        const d = ev.data as Partial<typeof ev.data> | null;
        if (d?.call) this.call(d.call);
        break;
      }
      case "provider.changed": {
        const p = ev.data;
        for (const [key, list] of this.qc.getQueriesData<{ data: Provider[] }>({ queryKey: keys.providers })) {
          if (list?.data) this.qc.setQueryData(key, { ...list, data: patchProviders(list.data, p) });
        }
        this.later(keys.providers);
        this.later(keys.provider(p.slug));
        break;
      }
      case "category.changed":
        this.later(keys.categories);
        break;
      case "user.changed":
        this.later(keys.users);
        // It may be this person: their role or departments decide what they see.
        this.later(keys.me);
        break;
      case "flow.changed":
        // Lists, drafts, versions and analytics; the editor keeps its own
        // unsaved state, so a refetch never overwrites what is being typed.
        this.later(keys.flows);
        this.later(keys.providers);
        break;
      case "thresholds.updated":
      case "threshold.crossed":
        this.later(keys.thresholds);
        break;
      case "voicemail.received":
        this.later(["voicemails"]);
        break;
      case "lead.upserted":
        this.lead(ev.data);
        break;
      case "reload":
        void this.qc.invalidateQueries();
        break;
      default: {
        // A kind this build does not know is ignored at run time (a newer
        // server); a kind the schema adds and this switch misses fails here.
        const unhandled: never = ev;
        void unhandled;
        break;
      }
    }
  }

  /** A lead changed: its open view takes the new fields at once (its calls
   * are kept until the refetch), and the call details of its department are
   * asked again, since a call may name a lead it did not know before. */
  private lead(l: Lead): void {
    const key = keys.lead(l.department, l.lead_id);
    this.qc.setQueryData<LeadDetail>(key, (old) => (old && old.version <= l.version ? { ...old, ...l } : old));
    this.later(key);
    this.later(keys.callsOf(l.department));
  }

  private call(c: Call): void {
    const key = callKey(c);
    const waiting = this.calls.get(key);
    // An older version never overwrites a newer one (the lists check again).
    if (!waiting || waiting.version <= c.version) this.calls.set(key, c);
    this.schedule();
    const now = Date.now();
    if (now - this.rate.since >= 1000) {
      this.rate = { since: now, count: 0, before: now - this.rate.since < 2000 ? this.rate.count : 0 };
    }
    this.rate.count += 1;
    this.later(keys.call(c.department, c.call_id));
    this.slow(keys.worklist);
    this.slow(keys.stats);
    // The agent board shows who is on which call and what they handled.
    this.slow(keys.agentBoard);
  }

  /** As `later`; while the stream is busy, no sooner than SLOW_MS after the last time. */
  private slow(key: QueryKey): void {
    const k = JSON.stringify(key);
    if (this.slowTimers.has(k)) return;
    const busy = Math.max(this.rate.count, this.rate.before) > BUSY_PER_S;
    const wait = busy ? Math.max(200, (this.slowLast.get(k) ?? -Infinity) + SLOW_MS - Date.now()) : 200;
    this.slowTimers.set(
      k,
      setTimeout(() => {
        this.slowTimers.delete(k);
        this.slowLast.set(k, Date.now());
        void this.qc.invalidateQueries({ queryKey: key });
      }, wait),
    );
  }

  private later(key: QueryKey): void {
    this.pending.add(JSON.stringify(key));
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) void this.qc.invalidateQueries({ queryKey: JSON.parse(k) as QueryKey });
    }, 200);
  }
}
