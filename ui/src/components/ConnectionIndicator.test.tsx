import { describe, expect, it } from "vitest";
import { connectionText } from "./ConnectionIndicator";
import type { ReplicaStatus } from "../api/types";
import type { StreamStatus } from "../stream/stream";

const live: StreamStatus = { state: "live", since: null, lastSeq: 4 };

function replica(over: Partial<ReplicaStatus>): ReplicaStatus {
  return {
    state: "live",
    offline_since: null,
    last_seq: 4,
    receiver_seq: 4,
    lag: 0,
    last_sync_at: null,
    pending_writes: 0,
    failed_writes: 0,
    last_error: null,
    remote_url: "http://receiver:8787",
    ...over,
  };
}

describe("connectionText", () => {
  it("says Live, Reconnecting, or Offline since the time the connection was lost", () => {
    expect(connectionText(live, null)[1]).toBe("Live");
    expect(connectionText({ state: "reconnecting", since: new Date(), lastSeq: 4 }, null)[1]).toBe("Reconnecting…");
    expect(connectionText({ state: "offline", since: new Date(2026, 0, 2, 9, 5), lastSeq: 4 }, undefined)[1]).toBe(
      "Offline since 09:05",
    );
  });

  it("on a replica, tells its link to the receiver and the changes waiting to be sent", () => {
    const since = new Date(2026, 0, 2, 14, 7).toISOString();
    expect(connectionText(live, replica({ state: "offline", offline_since: since, pending_writes: 2 }))).toEqual([
      "offline",
      "Offline since 14:07 · 2 changes waiting",
    ]);
    expect(connectionText(live, replica({ state: "offline", offline_since: since, pending_writes: 1 }))[1]).toBe(
      "Offline since 14:07 · 1 change waiting",
    );
    expect(connectionText(live, replica({ state: "reconnecting" }))[1]).toBe("Reconnecting…");
    expect(connectionText(live, replica({}))[1]).toBe("Live");
  });

  it("on a replica copying the receiver, says it is syncing with the rows copied, not offline", () => {
    const copying = replica({
      state: "syncing",
      offline_since: new Date(2026, 0, 2, 14, 7).toISOString(),
      snapshot: { started_at: new Date().toISOString(), pages: 3, rows: 12000, table: "calls" },
      pending_writes: 1,
    });
    expect(connectionText(live, copying)).toEqual([
      "syncing",
      "Syncing with the receiver… · 12,000 rows copied · 1 change waiting",
    ]);
    expect(connectionText(live, replica({ state: "syncing" }))[1]).toBe("Syncing with the receiver…");
  });
});
