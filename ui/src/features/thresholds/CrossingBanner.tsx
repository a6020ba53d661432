// What a supervisor notices when a threshold is crossed: a banner on every
// screen (until dismissed or back to normal), the tab title, and a browser
// notification when the figure gets worse (the desktop shell has its own).
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { inDesktop } from "../../desktop/bridge";
import { useProviders } from "../providers/queries";
import type { Provider } from "../../api/types";
import { providerName } from "../../lib/useVisibleProviders";
import { useSession } from "../../session";
import { crossings, useCrossings, type Crossing } from "./crossings";
import { useThresholdStates } from "./queries";
import { crossingText } from "./model";
import { chime } from "./chime";
import "./thresholds.css";

function text(c: Crossing, providers: Provider[]): string {
  return crossingText({ ...c, previous: "ok" }, providerName(providers, c.department));
}

function notificationsSupported(): boolean {
  return !inDesktop() && typeof window !== "undefined" && "Notification" in window;
}

/** Announces each crossing that gets worse: a chime and a browser notification. */
export function CrossingWatcher() {
  const providers = useProviders();
  const states = useThresholdStates();
  useEffect(() => {
    if (states.data) crossings.seed(states.data.data);
  }, [states.data]);
  const names = useRef<Provider[]>([]);
  useEffect(() => {
    names.current = providers.data?.data ?? [];
  }, [providers.data]);
  useEffect(
    () =>
      crossings.onRaise((c) => {
        chime(c.level);
        if (!notificationsSupported() || Notification.permission !== "granted") return;
        try {
          const n = new Notification(`Callboard · ${c.level === "red" ? "Red" : "Amber"} alert`, {
            body: text(c, names.current),
            tag: c.key,
          });
          n.onclick = () => window.focus();
        } catch {
          // Some browsers allow notifications only from a service worker; the banner still shows.
        }
      }),
    [],
  );
  return null;
}

/** The title prefix while crossings are shown: "⚠ 2 alerts · ". */
export function alertTitlePrefix(n: number): string {
  if (n === 0) return "";
  return `⚠ ${n} ${n === 1 ? "alert" : "alerts"} · `;
}

const SHOWN = 3;

export function CrossingBanner() {
  const list = useCrossings();
  const providers = useProviders();
  const { me } = useSession();
  const supervisor = me?.role === "admin" || me?.role === "supervisor";
  const [permission, setPermission] = useState(() => (notificationsSupported() ? Notification.permission : "denied"));
  if (list.length === 0) return null;
  const names = providers.data?.data ?? [];
  const worst = list.some((c) => c.level === "red") ? "red" : "amber";
  return (
    <div className={`crossing-banner level-${worst}`} role="alert" data-testid="crossing-banner">
      <ul>
        {list.slice(0, SHOWN).map((c) => (
          <li key={c.key} data-level={c.level} data-department={c.department} data-metric={c.metric}>
            <span className={`level-dot level-${c.level}`} aria-hidden="true" />
            <span className="grow">{text(c, names)}</span>
            <button type="button" onClick={() => crossings.dismiss(c.key)} aria-label={`Dismiss: ${text(c, names)}`}>
              Dismiss
            </button>
          </li>
        ))}
      </ul>
      <div className="row">
        {list.length > SHOWN && <span>and {list.length - SHOWN} more</span>}
        {supervisor && <Link to="/thresholds">Thresholds</Link>}
        {permission === "default" && (
          <button type="button" onClick={() => void Notification.requestPermission().then((p) => setPermission(p))}>
            Turn on browser notifications
          </button>
        )}
        {list.length > 1 && (
          <button type="button" onClick={() => crossings.clear()}>
            Dismiss all
          </button>
        )}
      </div>
    </div>
  );
}
