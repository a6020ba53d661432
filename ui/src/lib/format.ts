import { parsePhoneNumberFromString } from "libphonenumber-js/min";
// How numbers, times and durations read on screen.

export function formatDuration(totalSeconds: number | null | undefined): string {
  if (totalSeconds === null || totalSeconds === undefined || !Number.isFinite(totalSeconds)) return "—";
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0");
  const ss = String(sec).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Seconds between `from` and `to` (default: now), or null. */
export function secondsBetween(from: string | null | undefined, to?: string | null, now = Date.now()): number | null {
  if (!from) return null;
  const a = Date.parse(from);
  if (Number.isNaN(a)) return null;
  const b = to ? Date.parse(to) : now;
  if (Number.isNaN(b)) return null;
  return Math.max(0, Math.round((b - a) / 1000));
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/** Today: the time; another day: date and time. */
export function formatWhen(iso: string | null | undefined, now?: Date): string {
  if (!iso) return "—";
  if (now) return when(iso, now);
  // Tables show the same times again and again (each row scrolled back into
  // view): today's answers are kept until the day changes.
  const today = new Date();
  const day = today.toDateString();
  if (day !== whenDay) {
    whenDay = day;
    whenSeen.clear();
  }
  let text = whenSeen.get(iso);
  if (text === undefined) {
    text = when(iso, today);
    if (whenSeen.size >= CACHE_MAX) whenSeen.clear();
    whenSeen.set(iso, text);
  }
  return text;
}

const CACHE_MAX = 20_000;
let whenDay = "";
const whenSeen = new Map<string, string>();

function when(iso: string, now: Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay ? timeFmt.format(d) : dateTimeFmt.format(d);
}

export function formatHHMM(d: Date): string {
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/**
 * A stored number for people: international numbers (`+…`, as the server
 * normalises them) in their country's grouping from libphonenumber's metadata
 * (`+91 98765 43210`, `+39 06 6982 1234`, `+1 415 555 0100`); anything it
 * cannot read is shown as received.
 */
export function formatPhone(raw: string | null | undefined): string {
  if (!raw) return "—";
  // Parsing with libphonenumber is the dearest part of drawing a row.
  let text = phoneSeen.get(raw);
  if (text === undefined) {
    const n = parsePhoneNumberFromString(raw.trim());
    text = n?.isPossible() ? n.formatInternational() : raw;
    if (phoneSeen.size >= CACHE_MAX) phoneSeen.clear();
    phoneSeen.set(raw, text);
  }
  return text;
}

const phoneSeen = new Map<string, string>();

/** A `tel:` link for a number that can be dialled as stored, else null. */
export function telHref(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const n = parsePhoneNumberFromString(raw.trim());
  if (n?.isPossible()) return n.getURI();
  const digits = raw.replace(/[^\d+]/g, "");
  return /^\+?\d{3,15}$/.test(digits) ? `tel:${digits}` : null;
}

/** Time left until `due` as "12 min left", or "overdue 5 min" once it has passed. */
export function slaText(due: string | null | undefined, now = Date.now()): { text: string; breached: boolean } | null {
  if (!due) return null;
  const t = Date.parse(due);
  if (Number.isNaN(t)) return null;
  const diff = t - now;
  if (diff <= 0) return { text: `overdue ${humanMinutes(Math.floor(-diff / 60000))}`, breached: true };
  return { text: `${humanMinutes(Math.ceil(diff / 60000))} left`, breached: false };
}

function humanMinutes(m: number): string {
  if (m < 1) return "<1 min";
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  const r = m % 60;
  return r ? `${h} h ${r} min` : `${h} h`;
}

export function titleCase(s: string): string {
  return s.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

/** A value as indented JSON (payloads, previews). */
export function pretty(v: unknown): string {
  if (v === undefined) return "";
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}
