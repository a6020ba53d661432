// Business hours as the provider form edits them: one line of intervals per
// weekday ("09:00-13:00, 14:00-18:00"), holidays one per line. The server
// checks the same rules and names the field when it refuses.
import type { BusinessHoursConfig } from "../api/types";

export const WEEKDAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
] as const;

export type Weekday = (typeof WEEKDAYS)[number][0];

export interface HoursDraft {
  /** Off: the SLA clock runs around the clock (24×7). */
  enabled: boolean;
  timeZone: string;
  days: Record<Weekday, string>;
  holidays: string;
}

const TIME = /^([01]\d|2[0-4]):([0-5]\d)$/;

function emptyDays(): Record<Weekday, string> {
  return { mon: "", tue: "", wed: "", thu: "", fri: "", sat: "", sun: "" };
}

export function defaultTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function hoursToDraft(cfg: BusinessHoursConfig | null | undefined): HoursDraft {
  if (!cfg) {
    const days = emptyDays();
    for (const d of ["mon", "tue", "wed", "thu", "fri"] as const) days[d] = "09:00-18:00";
    return { enabled: false, timeZone: defaultTimeZone(), days, holidays: "" };
  }
  const days = emptyDays();
  for (const [d] of WEEKDAYS) {
    days[d] = (cfg.weekly?.[d] ?? []).map(([a, b]) => `${a}-${b}`).join(", ");
  }
  return { enabled: true, timeZone: cfg.time_zone, days, holidays: (cfg.holidays ?? []).join("\n") };
}

export interface HoursResult {
  value: BusinessHoursConfig | null;
  errors: Partial<Record<Weekday | "timeZone" | "holidays", string>>;
}

function minutes(t: string): number {
  const [h = 0, m = 0] = t.split(":").map(Number);
  return h * 60 + m;
}

export function draftToHours(d: HoursDraft): HoursResult {
  if (!d.enabled) return { value: null, errors: {} };
  const errors: HoursResult["errors"] = {};
  const weekly: Record<string, [string, string][]> = {};
  let open = 0;
  for (const [day, label] of WEEKDAYS) {
    const parts = d.days[day]
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const intervals: [string, string][] = [];
    for (const p of parts) {
      const [a, b, extra] = p.split("-").map((x) => x.trim());
      if (!a || !b || extra !== undefined || !TIME.test(a) || !TIME.test(b) || minutes(a) > 1440 || minutes(b) > 1440) {
        errors[day] = `${label}: write intervals as HH:MM-HH:MM, separated by commas.`;
        break;
      }
      if (minutes(a) >= minutes(b)) {
        errors[day] = `${label}: ${p} ends before it starts.`;
        break;
      }
      intervals.push([a, b]);
    }
    if (errors[day]) continue;
    intervals.sort((x, y) => minutes(x[0]) - minutes(y[0]));
    intervals.forEach(([start], i) => {
      const prev = intervals[i - 1];
      if (prev && minutes(start) < minutes(prev[1])) errors[day] = `${label}: intervals overlap.`;
    });
    if (intervals.length > 0) weekly[day] = intervals;
    open += intervals.length;
  }
  if (!d.timeZone.trim()) errors.timeZone = "Time zone is required, e.g. Europe/London.";
  const holidays = d.holidays
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter(Boolean);
  const bad = holidays.find((h) => !/^\d{4}-\d{2}-\d{2}$/.test(h));
  if (bad) errors.holidays = `\`${bad}\` is not a date: use YYYY-MM-DD.`;
  if (open === 0 && Object.keys(errors).length === 0)
    errors.mon = "Open at least one interval in the week, or switch business hours off (24×7).";
  return { value: { time_zone: d.timeZone.trim(), weekly, holidays }, errors };
}
