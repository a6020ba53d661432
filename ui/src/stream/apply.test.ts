import { afterEach, describe, expect, it, vi } from "vitest";
import type { Call } from "../api/types";
import { notifyManager, QueryClient, QueryObserver, type QueryObserverResult } from "@tanstack/react-query";
import {
  BUSY_PER_S,
  CacheApplier,
  NO_FRAME_MS,
  SLOW_MS,
  isLive,
  isPatchedList,
  liveSharing,
  patchLive,
  patchLiveBatch,
} from "./apply";

function call(over: Partial<Call>): Call {
  return {
    id: 1,
    call_id: "c1",
    department: "sales",
    attempts: 0,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    events_count: 1,
    metadata: {},
    version: 1,
    status: "ringing",
    ...over,
  };
}

describe("patchLive", () => {
  it("adds a new live call of the department, ignores other departments", () => {
    expect(patchLive([], call({}), "sales")).toHaveLength(1);
    expect(patchLive([], call({}), "all")).toHaveLength(1);
    expect(patchLive([], call({ department: "billing" }), "sales")).toHaveLength(0);
  });

  it("updates in place and removes a call that left the live queue", () => {
    const list = patchLive([], call({}), "sales");
    const active = patchLive(list, call({ status: "active", version: 2 }), "sales");
    expect(active).toHaveLength(1);
    expect(active[0]?.status).toBe("active");
    expect(patchLive(active, call({ status: "hangup", version: 3, work_state: "pending" }), "sales")).toHaveLength(0);
  });

  it("never lets an older version overwrite a newer one", () => {
    const list = [call({ status: "active", version: 5 })];
    expect(patchLive(list, call({ status: "ringing", version: 4 }), "sales")[0]?.status).toBe("active");
  });

  it("keeps missed calls only while nobody has taken them", () => {
    expect(isLive(call({ status: "missed", work_state: "pending" }))).toBe(true);
    expect(isLive(call({ status: "missed", work_state: "assigned" }))).toBe(false);
    expect(isLive(call({ status: "completed" }))).toBe(false);
  });
});

describe("patchLiveBatch", () => {
  const ids = (list: Call[]) => list.map((c) => c.call_id);

  it("applies a batch as the events one by one would: new calls on top, the latest first", () => {
    const list = [call({ call_id: "a" }), call({ call_id: "b" }), call({ call_id: "c" })];
    const batch = [
      call({ call_id: "n1" }),
      call({ call_id: "b", status: "active", version: 2 }),
      call({ call_id: "n2" }),
      call({ call_id: "c", status: "completed", version: 2 }),
      call({ call_id: "x", department: "billing" }),
    ];
    const one = batch.reduce((l, c) => patchLive(l, c, "sales"), list);
    const next = patchLiveBatch(list, batch, "sales");
    expect(ids(next)).toEqual(["n2", "n1", "a", "b"]);
    expect(next).toEqual(one);
    expect(next[3]?.status).toBe("active");
    // Unchanged calls are the same objects; the list given is left as it was.
    expect(next[2]).toBe(list[0]);
    expect(ids(list)).toEqual(["a", "b", "c"]);
  });

  it("gives the same list for a big batch (a pass over the list) as event by event", () => {
    const list = Array.from({ length: 300 }, (_, i) => call({ call_id: `c${i}` }));
    const batch = Array.from({ length: 60 }, (_, i) =>
      call({ call_id: `c${i * 5}`, version: 2, status: i % 3 ? "active" : "completed" }),
    );
    batch.push(call({ call_id: "new1" }), call({ call_id: "new2" }));
    const one = batch.reduce((l, c) => patchLive(l, c, "sales"), list);
    const next = patchLiveBatch(list, batch, "sales");
    expect(next).toEqual(one);
    expect(next).toHaveLength(300 - 20 + 2);
  });

  it("returns the same list when nothing changed, and never takes an older version", () => {
    const list = [call({ status: "active", version: 5 })];
    expect(patchLiveBatch(list, [call({ status: "ringing", version: 4 })], "sales")).toBe(list);
    expect(patchLiveBatch(list, [call({ status: "completed", version: 4 })], "sales")).toBe(list);
    expect(patchLiveBatch(list, [call({ department: "billing", call_id: "z" })], "sales")).toBe(list);
  });

  it("keeps its index across patches, and indexes a fetched list afresh", () => {
    let list: Call[] = [call({ call_id: "a" }), call({ call_id: "b" })];
    for (let v = 2; v < 6; v++) list = patchLiveBatch(list, [call({ call_id: "a", version: v })], "sales");
    list = patchLiveBatch(list, [call({ call_id: "c" })], "sales");
    list = patchLiveBatch(list, [call({ call_id: "b", status: "completed", version: 2 })], "sales");
    expect(ids(list)).toEqual(["c", "a"]);
    expect(list[1]?.version).toBe(5);
    // A list from a fetch (not made here) is indexed from its own calls.
    const fetched = [call({ call_id: "a", version: 9 }), call({ call_id: "d" })];
    expect(ids(patchLiveBatch(fetched, [call({ call_id: "a", version: 8, status: "completed" })], "sales"))).toEqual([
      "a",
      "d",
    ]);
    expect(ids(patchLiveBatch(fetched, [call({ call_id: "d", version: 2, status: "completed" })], "sales"))).toEqual([
      "a",
    ]);
  });

  it("handles two events of one call in a batch", () => {
    const next = patchLiveBatch(
      [call({ call_id: "a" })],
      [call({ call_id: "n" }), call({ call_id: "n", status: "active", version: 2 })],
      "sales",
    );
    expect(ids(next)).toEqual(["n", "a"]);
    expect(next[0]?.status).toBe("active");
    const gone = patchLiveBatch(
      [call({ call_id: "a" })],
      [call({ call_id: "n" }), call({ call_id: "n", status: "completed", version: 2 })],
      "sales",
    );
    expect(ids(gone)).toEqual(["a"]);
  });

  it("marks its lists so the query takes them without comparing", () => {
    const list = [call({ call_id: "a" })];
    const next = patchLiveBatch(list, [call({ call_id: "b" })], "sales");
    expect(isPatchedList(next)).toBe(true);
    expect(isPatchedList(list)).toBe(false);
    expect(liveSharing(list, next)).toBe(next);
    // A fetched list shares the calls that did not change.
    const fetched = [{ ...list[0]! }];
    expect((liveSharing(list, fetched) as Call[])[0]).toBe(list[0]);
  });
});

describe("CacheApplier", () => {
  const FRAME = 17;
  afterEach(() => {
    vi.useRealTimers();
  });

  function liveClient(lists: Record<string, Call[]>): QueryClient {
    const qc = new QueryClient();
    for (const [dept, list] of Object.entries(lists)) qc.setQueryData(["live", dept], list);
    return qc;
  }
  const upsert = (c: Call, seq = 1) => ({ seq, type: "call.upserted", department: c.department, data: c }) as never;

  it("gathers call events and patches each live list once per flush", () => {
    vi.useFakeTimers();
    const qc = liveClient({ sales: [call({ call_id: "a" })], all: [call({ call_id: "a" })] });
    const writes: string[] = [];
    qc.getQueryCache().subscribe((e) => {
      if (e.type === "updated" && e.action.type === "success") writes.push(String(e.query.queryKey[1]));
    });
    const applier = new CacheApplier(qc);
    applier.apply(upsert(call({ call_id: "a", status: "active", version: 2 })));
    // Nothing before a frame…
    expect(qc.getQueryData<Call[]>(["live", "sales"])?.[0]?.status).toBe("ringing");
    // …it is in at the next animation frame…
    vi.advanceTimersByTime(FRAME);
    expect(qc.getQueryData<Call[]>(["live", "sales"])?.[0]?.status).toBe("active");
    expect(writes.sort()).toEqual(["all", "sales"]);
    writes.length = 0;
    // …and a steady stream at the next frame, all at once.
    for (let i = 0; i < 20; i++) applier.apply(upsert(call({ call_id: `n${i}` }), i + 2));
    applier.apply(upsert(call({ call_id: "a", status: "completed", version: 3 }), 30));
    applier.apply(upsert(call({ call_id: "a", status: "active", version: 2 }), 31));
    expect(qc.getQueryData<Call[]>(["live", "sales"])).toHaveLength(1);
    vi.advanceTimersByTime(FRAME);
    const sales = qc.getQueryData<Call[]>(["live", "sales"]) ?? [];
    expect(sales).toHaveLength(20);
    expect(sales[0]?.call_id).toBe("n19");
    // An older version that came after a newer one does not bring the call back.
    expect(sales.some((c) => c.call_id === "a")).toBe(false);
    expect(writes.sort()).toEqual(["all", "sales"]);
    applier.stop();
  });

  /** An applier whose refetches are recorded, not made (fake timers on). */
  function countingApplier() {
    vi.useFakeTimers();
    const qc = liveClient({ sales: [] });
    const asked: string[] = [];
    vi.spyOn(qc, "invalidateQueries").mockImplementation((f) => {
      asked.push(JSON.stringify(f?.queryKey));
      return Promise.resolve();
    });
    const applier = new CacheApplier(qc);
    const stats = () => asked.filter((k) => k === '["stats"]').length;
    return { applier, asked, stats, qc };
  }

  it("asks for the counts 200 ms after each event of a quiet stream", () => {
    const { applier, stats } = countingApplier();
    for (let i = 0; i < 5; i++) {
      applier.apply(upsert(call({ call_id: `q${i}` }), i + 1));
      vi.advanceTimersByTime(200);
      expect(stats()).toBe(i + 1);
      vi.advanceTimersByTime(100);
    }
    applier.stop();
  });

  it("asks for the counts over every call at most every SLOW_MS under a busy stream", () => {
    const { applier, asked, stats } = countingApplier();
    // A call after a quiet spell: the counts follow 200 ms later, as before.
    applier.apply(upsert(call({ call_id: "a" })));
    vi.advanceTimersByTime(200);
    expect(stats()).toBe(1);
    expect(asked).toContain('["call","sales","a"]');
    // 200 events a second for 3 s: the counts three times more, not fifteen.
    for (let i = 0; i < 600; i++) {
      applier.apply(upsert(call({ call_id: `n${i}` }), i + 2));
      vi.advanceTimersByTime(5);
    }
    vi.advanceTimersByTime(SLOW_MS);
    expect(stats()).toBeGreaterThanOrEqual(3);
    expect(stats()).toBeLessThanOrEqual(5);
    expect(BUSY_PER_S).toBeLessThan(200);
    applier.stop();
  });

  it("tells a live list's observers at once, so the frame that patched it draws it", async () => {
    const qc = liveClient({ sales: [] });
    const seen: number[] = [];
    const observer = new QueryObserver<Call[]>(qc, { queryKey: ["live", "sales"], enabled: false });
    // As useQuery subscribes: through the cache's notify scheduling.
    const unsubscribe = observer.subscribe(
      notifyManager.batchCalls((r: QueryObserverResult<Call[]>) => void seen.push(r.data?.length ?? -1)),
    );
    const applier = new CacheApplier(qc);
    applier.apply(upsert(call({})));
    applier.flush();
    expect(seen).toEqual([1]);
    // Any other change keeps the cache's own timing (a later task).
    qc.setQueryData(["live", "sales"], []);
    expect(seen).toEqual([1]);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([1, 0]);
    unsubscribe();
    applier.stop();
  });

  it("patches a page that draws no frames (a hidden tab) all the same", () => {
    vi.useFakeTimers();
    vi.stubGlobal("requestAnimationFrame", () => 0);
    vi.stubGlobal("cancelAnimationFrame", () => undefined);
    try {
      const qc = liveClient({ sales: [] });
      const applier = new CacheApplier(qc);
      applier.apply(upsert(call({})));
      vi.advanceTimersByTime(NO_FRAME_MS - 1);
      expect(qc.getQueryData<Call[]>(["live", "sales"])).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(qc.getQueryData<Call[]>(["live", "sales"])).toHaveLength(1);
      applier.stop();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("drops what it gathered when stopped", () => {
    vi.useFakeTimers();
    const qc = liveClient({ sales: [] });
    const applier = new CacheApplier(qc);
    applier.apply(upsert(call({ call_id: "a" })));
    applier.stop();
    vi.advanceTimersByTime(1000);
    expect(qc.getQueryData<Call[]>(["live", "sales"])).toEqual([]);
  });

  it("refetches a live list that was still loading when a call event came", async () => {
    const qc = new QueryClient();
    let release: (v: Call[]) => void = () => undefined;
    let fetches = 0;
    // The first answer was made before the event: it lacks the call.
    const observer = new QueryObserver<Call[]>(qc, {
      queryKey: ["live", "sales"],
      queryFn: () => {
        fetches += 1;
        return fetches === 1 ? new Promise<Call[]>((r) => (release = r)) : Promise.resolve([call({})]);
      },
    });
    const stop = observer.subscribe(() => undefined);
    new CacheApplier(qc).apply({ seq: 1, type: "call.upserted", department: "sales", data: call({}) } as never);
    release([]);
    await new Promise((r) => setTimeout(r, 400));
    expect(qc.getQueryData<Call[]>(["live", "sales"])?.map((c) => c.call_id)).toEqual(["c1"]);
    stop();
  });

  it("patches an open lead with a lead.upserted at once, keeps its calls, and asks its department's call details again", () => {
    const { applier, asked, qc } = countingApplier();
    const lead = { department: "sales", lead_id: "L1", status: "NEW", version: 1, first_name: "Grace" };
    qc.setQueryData(["lead", "sales", "L1"], { ...lead, calls: [call({})] });
    const upserted = (l: object, seq: number) => ({ seq, type: "lead.upserted", data: l }) as never;
    applier.apply(upserted({ ...lead, status: "SALE", version: 2 }, 1));
    const open = qc.getQueryData<{ status: string; version: number; calls: Call[] }>(["lead", "sales", "L1"]);
    expect(open?.status).toBe("SALE");
    expect(open?.calls).toHaveLength(1);
    // An older version that came late changes nothing.
    applier.apply(upserted({ ...lead, status: "DNC", version: 1 }, 2));
    expect(qc.getQueryData<{ status: string }>(["lead", "sales", "L1"])?.status).toBe("SALE");
    vi.advanceTimersByTime(200);
    expect(asked).toContain('["lead","sales","L1"]');
    expect(asked).toContain('["call","sales"]');
    applier.stop();
  });
});
