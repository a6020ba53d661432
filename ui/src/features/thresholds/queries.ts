// The thresholds API: the configuration (supervisors read, admins write),
// each threshold's level now (everyone, scoped to their departments) and the
// alerts log. The stream's `thresholds.updated` / `threshold.crossed` events
// invalidate every key under ["thresholds"] (stream/apply.ts).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import { usePollWhileOffline } from "../../stream/StreamProvider";
import type { Smtp, ThresholdConfig } from "./model";

export function useThresholdConfig(enabled = true) {
  return useQuery({
    queryKey: [...keys.thresholds, "config"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/thresholds", { signal })),
    enabled,
  });
}

/** The server evaluates on every change and at least every 15 s; time-based
 * figures (the longest wait, rolling windows) move without an event, so the
 * values shown are refreshed at that pace too. */
const STATE_REFRESH_MS = 15_000;

export function useThresholdStates() {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: [...keys.thresholds, "state"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/thresholds/state", { signal })),
    refetchInterval: poll || STATE_REFRESH_MS,
  });
}

export function useAlerts(enabled = true, limit = 20) {
  return useQuery({
    queryKey: [...keys.thresholds, "alerts", limit],
    queryFn: ({ signal }) => unwrap(client().GET("/api/alerts", { params: { query: { limit } }, signal })),
    enabled,
  });
}

/** What a PUT sends: the SMTP password is write-only, so it is not in the read shape. */
export type SmtpWrite = Smtp & { password?: string };
export type ThresholdConfigWrite = Omit<ThresholdConfig, "smtp"> & { smtp?: SmtpWrite | null };

export function putThresholds(cfg: ThresholdConfigWrite): Promise<ThresholdConfig> {
  return unwrap(client().PUT("/api/thresholds", { body: cfg }));
}
