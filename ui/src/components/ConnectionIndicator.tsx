import { useStreamStatus } from "../stream/StreamProvider";
import { formatHHMM } from "../lib/format";

export function ConnectionIndicator() {
  const s = useStreamStatus();
  const text =
    s.state === "live"
      ? "Live"
      : s.state === "offline"
        ? `Offline since ${s.since ? formatHHMM(s.since) : "—"}`
        : s.state === "reconnecting"
          ? "Reconnecting…"
          : "Connecting…";
  return (
    <span className={`conn ${s.state}`} role="status" aria-live="polite" data-testid="connection">
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
