// How a lead reads in the console.
import type { Lead } from "../../api/types";

/** "First Last", or the lead id when the platform sent no name. */
export function leadName(lead: Pick<Lead, "first_name" | "last_name" | "lead_id">): string {
  const name = [lead.first_name, lead.last_name]
    .map((p) => p?.trim())
    .filter((p): p is string => !!p)
    .join(" ");
  return name || `Lead ${lead.lead_id}`;
}

/** The status name with its code (`Sale (SALE)`), either alone, or null. */
export function leadStatus(lead: Pick<Lead, "status" | "status_name">): string | null {
  const { status, status_name: name } = lead;
  if (status && name && name !== status) return `${name} (${status})`;
  return name ?? status ?? null;
}
