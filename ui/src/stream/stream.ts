// One WebSocket for the whole console. It resumes with `since` after any
// loss, so no event is missed or applied twice, and reports its state for
// the Live / Reconnecting / Offline indicator.
import type { components } from "../api/schema";
import { backoffDelay } from "../lib/backoff";

/** One message of `/api/events`: its `type` decides the shape of its `data`. */
export type StreamEvent = components["schemas"]["StreamMessage"];
/** The event kinds the server sends. */
export type EventKind = components["schemas"]["EventKind"];

export type StreamState = "connecting" | "live" | "reconnecting" | "offline";

export interface StreamStatus {
  state: StreamState;
  /** When the connection was lost (null while live). */
  since: Date | null;
  lastSeq: number | null;
}

/** Failed attempts after which the console says "Offline" and starts polling. */
const OFFLINE_AFTER = 3;

/** The server's close code when the session that opened the stream ended. */
export const CLOSE_SIGNED_OUT = 4401;

export interface StreamOptions {
  url: (since: number | null) => string;
  onEvent: (ev: StreamEvent) => void;
  onStatus: (s: StreamStatus) => void;
  /** Called after a reconnect (not the first connect): refresh what may be stale. */
  onResume?: () => void;
  /** The session ended (close code 4401, the reason its error code): no retry. */
  onSignedOut?: (code: string) => void;
  socket?: (url: string) => WebSocket;
  random?: () => number;
}

export class EventStream {
  private ws: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = false;
  private everOpened = false;
  private status: StreamStatus = { state: "connecting", since: null, lastSeq: null };
  private readonly opts: StreamOptions;

  constructor(opts: StreamOptions) {
    this.opts = opts;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close(1000, "console closed");
    }
  }

  /** Reconnect now (e.g. the browser says it is back online). */
  nudge(): void {
    if (this.stopped || this.status.state === "live") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  }

  current(): StreamStatus {
    return this.status;
  }

  private set(next: Partial<StreamStatus>): void {
    this.status = { ...this.status, ...next };
    this.opts.onStatus(this.status);
  }

  private connect(): void {
    if (this.stopped) return;
    const make = this.opts.socket ?? ((u: string) => new WebSocket(u));
    let ws: WebSocket;
    try {
      ws = make(this.opts.url(this.status.lastSeq));
    } catch {
      this.lost();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const resumed = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.set({ state: "live", since: null });
      if (resumed) this.opts.onResume?.();
    };
    ws.onmessage = (m: MessageEvent) => {
      let ev: StreamEvent;
      try {
        ev = JSON.parse(String(m.data)) as StreamEvent;
      } catch {
        return;
      }
      if (typeof ev.seq !== "number") return;
      if (ev.type === "reload") {
        const head = (ev.data as Partial<typeof ev.data> | null)?.head;
        this.status.lastSeq = typeof head === "number" ? head : ev.seq;
        this.opts.onEvent(ev);
        return;
      }
      if (this.status.lastSeq !== null && ev.seq <= this.status.lastSeq) return;
      this.status.lastSeq = ev.seq;
      this.opts.onEvent(ev);
    };
    ws.onclose = (e: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (e.code === CLOSE_SIGNED_OUT && this.opts.onSignedOut) {
        this.stopped = true;
        this.opts.onSignedOut(e.reason || "invalid_token");
        return;
      }
      this.lost();
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry.
    };
  }

  private lost(): void {
    if (this.stopped) return;
    this.attempt += 1;
    const since = this.status.since ?? new Date();
    this.set({ state: this.attempt >= OFFLINE_AFTER ? "offline" : "reconnecting", since });
    const delay = backoffDelay(this.attempt - 1, this.opts.random);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
