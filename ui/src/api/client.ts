// The one way the console talks to the server: JSON over fetch with the
// session's bearer token, and errors turned into `ApiError`s that carry the
// server's stable code and a sentence a person can act on.
import createClient from "openapi-fetch";
import { humanMessage } from "./errors";
import type { paths } from "./schema";

export interface Connection {
  /** Origin of the API, "" for the page's own origin. */
  base: string;
  token: string | null;
}

const conn: Connection = { base: "", token: null };
let onUnauthorized: (() => void) | null = null;

export function configure(next: Partial<Connection>): void {
  Object.assign(conn, next);
}

export function connection(): Readonly<Connection> {
  return conn;
}

export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
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

export type Query = Record<string, string | number | boolean | null | undefined>;

export function qs(params: Query | undefined): string {
  if (!params) return "";
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? `?${s}` : "";
}

export async function request<T>(
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`${conn.base}${path}${qs(opts.query)}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", String(e), null);
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: string; message?: string } } | null)?.error;
    const e = new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? res.statusText, body);
    if (res.status === 401 && conn.token && onUnauthorized) onUnauthorized();
    throw e;
  }
  return body as T;
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>("GET", path, { query, signal }),
  post: <T>(path: string, body?: unknown, query?: Query) => request<T>("POST", path, { body: body ?? {}, query }),
  patch: <T>(path: string, body: unknown, query?: Query) => request<T>("PATCH", path, { body, query }),
  put: <T>(path: string, body: unknown, query?: Query) => request<T>("PUT", path, { body, query }),
  del: <T>(path: string, query?: Query) => request<T>("DELETE", path, { query }),
};

/** The API client typed from the OpenAPI document: paths, parameters,
 * bodies and answers are checked against `schema.d.ts`. Made per call so it
 * always uses the current connection (and the current `fetch`). */
export function client() {
  const headers: Record<string, string> = { accept: "application/json" };
  if (conn.token) headers.authorization = `Bearer ${conn.token}`;
  return createClient<paths>({
    baseUrl: conn.base || window.location.origin,
    headers,
    fetch: (req: Request) => globalThis.fetch(req),
    querySerializer: (q: Record<string, unknown>) => qs(q as Query).slice(1),
  });
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a typed call, or the server's error as an `ApiError`. */
export async function unwrap<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", String(e), null);
  }
  const { data, error, response: res } = answer;
  if (!res.ok) {
    const err = (error as { error?: { code?: string; message?: string } } | null | undefined)?.error;
    const e = new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? res.statusText,
      error ?? null,
    );
    if (res.status === 401 && conn.token && onUnauthorized) onUnauthorized();
    throw e;
  }
  return data as T;
}

/** The WebSocket URL of the event stream. */
export function eventsUrl(since: number | null): string {
  const origin = conn.base || window.location.origin;
  const ws = origin.replace(/^http/, "ws");
  return `${ws}/api/events${qs({ token: conn.token, since: since ?? undefined })}`;
}
