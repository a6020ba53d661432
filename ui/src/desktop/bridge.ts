// The desktop window hands the console its backend's address and token
// through one typed command, `connection`. This is the only folder allowed to
// import @tauri-apps; in a browser none of it runs. A host page may also set
// `window.__CALLBOARD__` directly.
export interface DesktopConfig {
  apiBase: string;
  token: string;
}

/** What the shell's `connection` command answers (src-tauri/src/shell.rs). */
export interface DesktopConnection extends DesktopConfig {
  mode: "receiver" | "remote";
  webhookBases: string[];
  hints: string[];
  remoteUrl: string | null;
  secrets: "keyring" | "file";
  dataDir: string;
}

/** The shell's settings (src-tauri/src/settings.rs), as saved. */
export interface DesktopSettings {
  mode: "receiver" | "remote" | null;
  receiver: { lan: boolean; port: number; public_url: string | null };
  remote: { url: string; username: string };
  notifications: {
    do_not_disturb: boolean;
    muted: string[];
    sla_breaches: boolean;
    thresholds: boolean;
    /** A voicemail left for the user signed in to this window. */
    voicemails: boolean;
  };
  close_to_tray: boolean;
  /** Start at login; null: on in receiver mode, off in remote mode. */
  autostart: boolean | null;
  tray_explained: boolean;
  updates: { channel: UpdateChannel; automatic: boolean };
}

export type UpdateChannel = "stable" | "beta";

/** What the shell's `update_*` commands answer (src-tauri/src/updates.rs). */
export interface UpdateStatus {
  current: string;
  /** False when this build has no update address and key. */
  enabled: boolean;
  offer: { version: string; notes: string | null; date: string | null } | null;
  /** A version installed and waiting for a restart. */
  installed: string | null;
}

export interface UpdateProgress {
  downloaded: number;
  total: number | null;
}

/** Errors from the shell's commands. */
export interface CommandError {
  code: string;
  message: string;
}

declare global {
  interface Window {
    __CALLBOARD__?: Partial<DesktopConfig>;
    __CALLBOARD_DESKTOP__?: DesktopConnection;
    __TAURI_INTERNALS__?: unknown;
  }
}

export function inDesktop(): boolean {
  return typeof window !== "undefined" && window.__TAURI_INTERNALS__ !== undefined;
}

export function desktopConfig(): DesktopConfig | null {
  const c = typeof window === "undefined" ? undefined : window.__CALLBOARD__;
  if (!c || typeof c.apiBase !== "string" || typeof c.token !== "string") return null;
  return { apiBase: c.apiBase, token: c.token };
}

/** The connection the shell handed over at start, if any. */
export function desktopConnection(): DesktopConnection | null {
  return (typeof window !== "undefined" && window.__CALLBOARD_DESKTOP__) || null;
}

export async function command<T>(name: string, args?: Record<string, unknown>): Promise<T> {
  const { invoke } = await import("@tauri-apps/api/core");
  return invoke<T>(name, args);
}

export function commandMessage(e: unknown): string {
  if (e && typeof e === "object" && "message" in e && typeof (e as CommandError).message === "string") {
    return (e as CommandError).message;
  }
  return String(e);
}

/** Asks the shell for the backend; `null` means the first-run question comes first. */
export async function startDesktop(): Promise<DesktopConnection | null> {
  const c = await command<DesktopConnection | null>("connection");
  if (c) {
    window.__CALLBOARD_DESKTOP__ = c;
    window.__CALLBOARD__ = { apiBase: c.apiBase, token: c.token };
  }
  return c;
}

/** Listens to one of the shell's events; resolves to the function that stops listening. */
export async function onShellEvent<T>(name: string, handler: (payload: T) => void): Promise<() => void> {
  const { listen } = await import("@tauri-apps/api/event");
  return listen<T>(name, (e) => handler(e.payload));
}

/** What a clicked notification asks to open (src-tauri/src/lib.rs `OpenCall`). */
export interface OpenCall {
  department: string;
  callId: string | null;
  /** The department's voicemail inbox, not its worklist. */
  voicemail: boolean;
}

/** Where a clicked notification leads: its call in the worklist, the
 * department's worklist, or the department's voicemail inbox. */
export function openCallPath({ department, callId, voicemail }: OpenCall): string {
  const dept = encodeURIComponent(department);
  if (voicemail) return `/voicemail?department=${dept}`;
  const q = callId ? `?view=pending&call=${encodeURIComponent(callId)}` : "?view=pending";
  return `/hangup/${dept}${q}`;
}

/** A click on a notification opens what it is about. */
export async function followNotificationClicks(): Promise<void> {
  const { listen } = await import("@tauri-apps/api/event");
  await listen<OpenCall>("open-call", (e) => {
    window.history.pushState(null, "", openCallPath(e.payload));
    window.dispatchEvent(new PopStateEvent("popstate"));
  });
}
