// What an agent notices when a caller leaves a voicemail meant for them (the
// call assigned to them, or their platform agent id mapped to them): a notice
// on every screen until opened or dismissed, and a browser notification.
import { useEffect, useRef } from "react";
import { Link } from "react-router";
import { inDesktop } from "../../desktop/bridge";
import { useProviders } from "../providers/queries";
import type { Provider } from "../../api/types";
import { providerName } from "../../lib/useVisibleProviders";
import { formatPhone } from "../../lib/format";
import { useSession } from "../../session";
import { useVoicemailNotices, voicemailNotices, type VoicemailReceived } from "./notices";

export function voicemailText(v: VoicemailReceived, providers: Provider[]): string {
  const from = v.mobile_number ? formatPhone(v.mobile_number) : "an unknown number";
  const length = v.duration_seconds != null ? ` (${v.duration_seconds} s)` : "";
  return `New voicemail for you from ${from}${length} · ${providerName(providers, v.department)}`;
}

/** Announces each new voicemail meant for the signed-in person. */
export function VoicemailWatcher() {
  const { me } = useSession();
  const providers = useProviders();
  const who = useRef<number | undefined>(undefined);
  const names = useRef<Provider[]>([]);
  useEffect(() => {
    who.current = me?.user?.id;
  }, [me]);
  useEffect(() => {
    names.current = providers.data?.data ?? [];
  }, [providers.data]);
  useEffect(
    () =>
      voicemailNotices.onNew((v) => {
        if (v.for_user_id !== who.current) return;
        if (inDesktop() || !("Notification" in window) || Notification.permission !== "granted") return;
        try {
          const n = new Notification("Callboard · Voicemail", {
            body: voicemailText(v, names.current),
            tag: `vm-${v.id}`,
          });
          n.onclick = () => window.focus();
        } catch {
          // Notifications only from a service worker in some browsers: the notice still shows.
        }
      }),
    [],
  );
  return null;
}

export function VoicemailNotice() {
  const { me } = useSession();
  const list = useVoicemailNotices(me?.user?.id);
  const providers = useProviders();
  if (list.length === 0) return null;
  const names = providers.data?.data ?? [];
  return (
    <div className="voicemail-notice" role="status" data-testid="voicemail-notice">
      <ul>
        {list.slice(0, 3).map((v) => (
          <li key={v.id} data-voicemail-id={v.id}>
            <span className="grow">{voicemailText(v, names)}</span>
            <Link
              to={`/voicemail?department=${encodeURIComponent(v.department)}`}
              onClick={() => voicemailNotices.dismiss(v.id)}
            >
              Open the inbox
            </Link>
            <button
              type="button"
              onClick={() => voicemailNotices.dismiss(v.id)}
              aria-label={`Dismiss: ${voicemailText(v, names)}`}
            >
              Dismiss
            </button>
          </li>
        ))}
      </ul>
      {list.length > 3 && <span>and {list.length - 3} more in the inbox</span>}
    </div>
  );
}
