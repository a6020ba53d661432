// Query keys more than one screen shares: the stream's cache updates
// (stream/apply.ts) and the writes that refresh another screen's lists use
// these. A key only one feature reads lives beside that feature's queries.
import type { QueryKey } from "@tanstack/react-query";

export const keys = {
  /** Every provider list (`["providers", { includeInactive }]`). */
  providers: ["providers"],
  providerList: (includeInactive: boolean) => ["providers", { includeInactive }],
  provider: (slug: string) => ["provider", slug],
  stats: ["stats"],
  /** Every category list (per department, and the Masters list). */
  categories: ["categories"],
  users: ["users"],
  /** The signed-in person (`["me", token]`). */
  me: ["me"],
  /** Every live queue (`["live", department]`). */
  live: ["live"],
  liveOf: (department: string) => ["live", department],
  /** Every worklist page set (`["worklist", query]`). */
  worklist: ["worklist"],
  /** Every call detail, or one call's. */
  calls: ["call"],
  call: (department: string, callId: string | null) => ["call", department, callId],
  /** Every call detail of a department (a lead change may concern any). */
  callsOf: (department: string) => ["call", department],
  /** One lead with its calls (the call drawer's lead section). */
  lead: (department: string, leadId: string) => ["lead", department, leadId],
  agents: ["agents"],
  agentBoard: ["agents", "board"],
  flows: ["flows"],
  thresholds: ["thresholds"],
  replica: ["replica"],
} as const satisfies Record<string, QueryKey | ((...a: never[]) => QueryKey)>;
