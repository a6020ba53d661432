// Days picked in a date field (YYYY-MM-DD, the browser's local time) as the
// instants the API filters by.

/** A day as a date field gives it. */
export const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The local midnight starting `day` (plus `addDays`: 1 gives the end of an
 * inclusive last day) as RFC 3339; undefined for anything but a day. */
export function localMidnight(day: string, addDays = 0): string | undefined {
  if (!DAY.test(day)) return undefined;
  const [y, m, d] = day.split("-").map(Number);
  if (y === undefined || m === undefined || d === undefined) return undefined;
  const t = new Date(y, m - 1, d + addDays);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}
