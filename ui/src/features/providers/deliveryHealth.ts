// The provider list's delivery columns: when each provider last delivered
// and its error rate over the last 24 hours (`GET /api/providers-health`).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

export type DeliveryHealth = components["schemas"]["DeliveryHealth"];

export function useDeliveryHealth() {
  return useQuery({
    queryKey: ["providers-health"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/providers-health", { signal })),
    // Deliveries do not come on the stream: look again each minute.
    refetchInterval: 60_000,
  });
}

/** "12 min ago", "3 h ago", "2 d ago"; "never" without a delivery. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const m = Math.floor(Math.max(0, now - t) / 60_000);
  if (m < 1) return "just now";
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** "2.5 % (3 of 120)"; "—" without deliveries. */
export function errorRateText(d: DeliveryHealth | undefined): string {
  if (!d || d.error_rate === null || d.error_rate === undefined || d.deliveries === 0) return "—";
  const pct = Math.round(d.error_rate * 1000) / 10;
  return `${pct} % (${d.errors} of ${d.deliveries})`;
}
