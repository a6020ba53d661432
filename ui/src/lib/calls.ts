import type { Call } from "../api/types";
import { secondsBetween } from "./format";

/**
 * Seconds shown in the Duration column: talk time for active calls, time
 * waiting for waiting/ringing ones, the stored duration once the call ended.
 */
export function liveSeconds(c: Call, now: number): number | null {
  switch (c.status) {
    case "active":
      return secondsBetween(c.answered_at ?? c.started_at ?? c.created_at, null, now);
    case "waiting":
    case "ringing":
      return secondsBetween(c.started_at ?? c.created_at, null, now);
    default:
      if (c.duration_seconds !== null && c.duration_seconds !== undefined) return c.duration_seconds;
      return secondsBetween(c.started_at, c.ended_at);
  }
}
