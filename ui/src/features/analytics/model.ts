// Date ranges, number formats and the client-side CSV of the analytics screen.

export type Preset = "today" | "7d" | "30d" | "custom";

export interface Range {
  /** Inclusive start, ISO (UTC). */
  from: string;
  /** Exclusive end, ISO (UTC). */
  to: string;
}

function localMidnight(d: Date): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

function addDays(d: Date, n: number): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}

/** `YYYY-MM-DD` of a local date, the value of an `<input type="date">`. */
export function dateInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function parseDateInput(s: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/** Whole local days: today, the last 7 or 30 days (today included), or `customFrom`..`customTo` inclusive. */
export function rangeFor(preset: Preset, now: Date, customFrom?: string, customTo?: string): Range | null {
  const tomorrow = addDays(localMidnight(now), 1);
  switch (preset) {
    case "today":
      return { from: localMidnight(now).toISOString(), to: tomorrow.toISOString() };
    case "7d":
      return { from: addDays(tomorrow, -7).toISOString(), to: tomorrow.toISOString() };
    case "30d":
      return { from: addDays(tomorrow, -30).toISOString(), to: tomorrow.toISOString() };
    case "custom": {
      const f = parseDateInput(customFrom ?? "");
      const t = parseDateInput(customTo ?? "");
      if (!f || !t || t < f) return null;
      return { from: f.toISOString(), to: addDays(t, 1).toISOString() };
    }
  }
}

/** Hourly buckets up to two days, daily beyond. */
export function intervalFor(r: Range): "hour" | "day" {
  return Date.parse(r.to) - Date.parse(r.from) <= 2 * 86_400_000 ? "hour" : "day";
}

/** Minutes east of UTC of the browser's clock at `iso`, for the server's buckets. */
export function utcOffsetMinutes(iso: string): number {
  return -new Date(iso).getTimezoneOffset();
}

/** The browser's IANA time zone (`Europe/London`), if it reports one. */
export function browserTimeZone(): string | undefined {
  const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return z || undefined;
}

export function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`;
}

export function secs(x: number | null | undefined): string {
  return x === null || x === undefined ? "—" : `${x.toFixed(1)} s`;
}

/** A bucket's label on the chart: `HH:00` for hours, `DD Mon` for days. */
export function bucketLabel(iso: string, interval: "hour" | "day"): string {
  const d = new Date(iso);
  if (interval === "hour") return `${String(d.getHours()).padStart(2, "0")}:00`;
  return d.toLocaleDateString(undefined, { day: "2-digit", month: "short" });
}

/**
 * A spreadsheet-safe cell: text a spreadsheet would run as a formula
 * (`=`, `+`, `-`, `@`, tab, carriage return first) gets a leading `'`,
 * as the server's export does.
 */
export function defuse(cell: string): string {
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

/** RFC 4180: quote a field holding a comma, quote or line break; double its quotes. */
export function csvField(cell: string | number | null | undefined): string {
  if (cell === null || cell === undefined) return "";
  const s = typeof cell === "number" ? String(cell) : defuse(cell);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export type Table = { title: string; header: string[]; rows: (string | number | null | undefined)[][] };

/** Tables one after another, each under its title row, records ended by CRLF. */
export function toCsv(tables: Table[]): string {
  const lines: string[] = [];
  tables.forEach((t, i) => {
    if (i > 0) lines.push("");
    lines.push(csvField(t.title));
    lines.push(t.header.map(csvField).join(","));
    for (const r of t.rows) lines.push(r.map(csvField).join(","));
  });
  return lines.join("\r\n") + "\r\n";
}
