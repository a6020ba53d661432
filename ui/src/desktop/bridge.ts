// The desktop window (issue "desktop app") hands the console its backend's
// address and token. This is the only folder allowed to import @tauri-apps;
// until the shell exists, a host page may set `window.__CALLBOARD__`.
export interface DesktopConfig {
  apiBase: string;
  token: string;
}

declare global {
  interface Window {
    __CALLBOARD__?: Partial<DesktopConfig>;
  }
}

export function desktopConfig(): DesktopConfig | null {
  const c = typeof window === "undefined" ? undefined : window.__CALLBOARD__;
  if (!c || typeof c.apiBase !== "string" || typeof c.token !== "string") return null;
  return { apiBase: c.apiBase, token: c.token };
}
