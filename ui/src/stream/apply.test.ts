import { describe, expect, it } from "vitest";
import type { Call } from "../api/types";
import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { CacheApplier, isLive, patchLive } from "./apply";

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

describe("CacheApplier", () => {
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
});
