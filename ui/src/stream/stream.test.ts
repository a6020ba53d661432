import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EventStream, type StreamEvent, type StreamStatus } from "./stream";

class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.();
  }
  send(ev: Partial<StreamEvent>) {
    this.onmessage?.({ data: JSON.stringify({ at: "", data: {}, type: "call.upserted", ...ev }) });
  }
  drop(code = 1006, reason = "") {
    this.onclose?.({ code, reason });
  }
}

function setup() {
  const events: StreamEvent[] = [];
  const statuses: StreamStatus[] = [];
  let resumed = 0;
  const ended: string[] = [];
  const stream = new EventStream({
    onSignedOut: (code) => ended.push(code),
    url: (since) => `ws://x/api/events${since === null ? "" : `?since=${since}`}`,
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push({ ...s }),
    onResume: () => (resumed += 1),
    socket: (u) => new FakeSocket(u) as unknown as WebSocket,
    random: () => 0,
  });
  return { stream, events, statuses, resumed: () => resumed, ended };
}

beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("EventStream", () => {
  it("resumes after a loss with `since` and never applies an event twice", () => {
    const { stream, events, resumed } = setup();
    stream.start();
    const first = FakeSocket.all[0]!;
    expect(first.url).toBe("ws://x/api/events");
    first.open();
    first.send({ seq: 1 });
    first.send({ seq: 2 });
    first.drop();
    vi.advanceTimersByTime(30_000);
    const second = FakeSocket.all[1]!;
    expect(second.url).toBe("ws://x/api/events?since=2");
    second.open();
    second.send({ seq: 2 }); // a replayed duplicate
    second.send({ seq: 3 });
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(resumed()).toBe(1);
  });

  it("says Reconnecting, then Offline since the loss, then Live again", () => {
    const { stream, statuses } = setup();
    stream.start();
    FakeSocket.all[0]!.open();
    for (let i = 0; i < 3; i++) {
      FakeSocket.all[i]!.drop();
      vi.advanceTimersByTime(60_000);
    }
    const states = statuses.map((s) => s.state);
    expect(states).toEqual(["live", "reconnecting", "reconnecting", "offline"]);
    const since = statuses[1]!.since;
    expect(since).toBeInstanceOf(Date);
    expect(statuses[3]!.since).toBe(since);
    FakeSocket.all[3]!.open();
    expect(statuses.at(-1)).toMatchObject({ state: "live", since: null });
  });

  it("after `reload` continues from the head it names", () => {
    const { stream, events } = setup();
    stream.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.send({ seq: 50, type: "reload", data: { reason: "too_far_behind", oldest: 100, head: 120 } });
    s.send({ seq: 100 });
    s.send({ seq: 121 });
    expect(events.map((e) => [e.type, e.seq])).toEqual([
      ["reload", 50],
      ["call.upserted", 121],
    ]);
  });

  it("stops for good when stopped", () => {
    const { stream } = setup();
    stream.start();
    const s = FakeSocket.all[0]!;
    s.open();
    stream.stop();
    expect(s.closed).toBe(true);
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("when the server ends the session (4401) says so once and does not retry", () => {
    const { stream, ended } = setup();
    stream.start();
    const s = FakeSocket.all[0]!;
    s.open();
    s.drop(4401, "session_expired");
    expect(ended).toEqual(["session_expired"]);
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});
