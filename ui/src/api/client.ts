// The one way the console talks to the server: `client()`, typed from the
// OpenAPI document (schema.d.ts), with the desktop's bearer token or the
// browser's session cookie (and its CSRF token on every change), and
// `unwrap()`/`settle()` turning errors into `ApiError`s that carry the
// server's stable code and a sentence a person can act on. Nothing outside
// src/api/ calls `fetch` or spells an API URL (eslint.config.js).
import createClient from "openapi-fetch";
import { humanMessage } from "./errors";
import type { components, paths } from "./schema";

type ErrorDetail = components["schemas"]["ErrorDetail"];

export interface Connection {
  /** Origin of the API, "" for the page's own origin. */
  base: string;
  /** The desktop's bearer token; null in a browser (the cookie carries the session). */
  token: string | null;
  /** The cookie session's CSRF token, sent as `X-CSRF-Token` with every change. */
  csrf: string | null;
}

const conn: Connection = { base: "", token: null, csrf: null };
let onUnauthorized: ((code: string) => void) | null = null;

export function configure(next: Partial<Connection>): void {
  Object.assign(conn, next);
}

export function connection(): Readonly<Connection> {
  return conn;
}

/** Called with the error code of every 401. */
export function setUnauthorizedHandler(fn: ((code: string) => void) | null): void {
  onUnauthorized = fn;
}

/** The session ended somewhere other than a request (the event stream). */
export function sessionEnded(code: string): void {
  onUnauthorized?.(code);
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly serverMessage: string;
  readonly body: unknown;
  constructor(status: number, code: string, serverMessage: string, body: unknown) {
    super(humanMessage(status, code, serverMessage));
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage;
    this.body = body;
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

/** `?a=1&b=x` with empty values left out (the server's defaults apply). */
function qs(params: Query | undefined): string {
  if (!params) return "";
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The API client typed from the OpenAPI document: paths, parameters,
 * bodies and answers are checked against `schema.d.ts`. Made per call so it
 * always uses the current connection (and the current `fetch`). */
export function client() {
  const headers: Record<string, string> = { accept: "application/json" };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  return createClient<paths>({
    baseUrl: conn.base || window.location.origin,
    headers,
    fetch: (req: Request) => {
      if (conn.csrf && !SAFE_METHODS.has(req.method)) req.headers.set("x-csrf-token", conn.csrf);
      return globalThis.fetch(req);
    },
    querySerializer: (q: Record<string, unknown>) => qs(q as Query).slice(1),
  });
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data and the response of a typed call (a download reads its
 * headers), or the server's error as an `ApiError`. */
export async function settle<T>(pending: Promise<Answer<T>>): Promise<{ data: T; response: Response }> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", String(e), null);
  }
  const { data, error, response: res } = answer;
  if (!res.ok) {
    // The server's `ErrorBody`, read loosely: a proxy in between may answer anything.
    const err = (error as { error?: Partial<ErrorDetail> } | null | undefined)?.error;
    const e = new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? res.statusText,
      error ?? null,
    );
    if (res.status === 401 && onUnauthorized) onUnauthorized(e.code);
    throw e;
  }
  return { data: data as T, response: res };
}

/** The data of a typed call, or the server's error as an `ApiError`. */
export async function unwrap<T>(pending: Promise<Answer<T>>): Promise<T> {
  return (await settle(pending)).data;
}

/** The WebSocket URL of the event stream. */
export function eventsUrl(since: number | null): string {
  const origin = conn.base || window.location.origin;
  const ws = origin.replace(/^http/, "ws");
  return `${ws}/api/events${qs({ token: conn.token, since: since ?? undefined })}`;
}
