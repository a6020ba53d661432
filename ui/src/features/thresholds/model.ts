// Thresholds as the console reads and edits them: the figures a department
// can be watched on, how each reads (a count, seconds, a percentage), the
// worst level of a department, and the editor's draft ⇄ the API's shape.
import type { components } from "../../api/schema";

type S = components["schemas"];
export type Metric = S["Metric"];
export type Level = S["Level"];
export type Threshold = S["Threshold"];
export type ThresholdConfig = S["ThresholdConfig"];
export type ThresholdState = S["ThresholdState"];
export type ThresholdCrossed = S["ThresholdCrossed"];
export type Channel = S["Channel"];
export type ChannelKind = S["ChannelKind"];
export type Smtp = S["Smtp"];
export type SmtpSecurity = S["SmtpSecurity"];
export type Alert = S["Alert"];

type Unit = "count" | "seconds" | "percent" | "minutes";

export interface MetricInfo {
  metric: Metric;
  label: string;
  unit: Unit;
  /** A lower value is worse (service level): amber and red are floors. */
  lowerIsWorse: boolean;
  /** Measured over a rolling window (the window field applies). */
  windowed: boolean;
  /** The queue whose badge shows this figure's level. */
  queue: "live" | "hangup";
}

export const METRICS: readonly MetricInfo[] = [
  {
    metric: "waiting_count",
    label: "Calls waiting",
    unit: "count",
    lowerIsWorse: false,
    windowed: false,
    queue: "live",
  },
  {
    metric: "longest_wait_seconds",
    label: "Longest wait",
    unit: "seconds",
    lowerIsWorse: false,
    windowed: false,
    queue: "live",
  },
  {
    metric: "service_level",
    label: "Service level",
    unit: "percent",
    lowerIsWorse: true,
    windowed: true,
    queue: "live",
  },
  {
    metric: "abandon_rate",
    label: "Abandon rate",
    unit: "percent",
    lowerIsWorse: false,
    windowed: true,
    queue: "live",
  },
  {
    metric: "callbacks_overdue",
    label: "Callbacks overdue",
    unit: "count",
    lowerIsWorse: false,
    windowed: false,
    queue: "hangup",
  },
  {
    metric: "provider_quiet_minutes",
    label: "No delivery for",
    unit: "minutes",
    lowerIsWorse: false,
    windowed: false,
    queue: "live",
  },
];

const UNKNOWN: MetricInfo = {
  metric: "waiting_count",
  label: "Figure",
  unit: "count",
  lowerIsWorse: false,
  windowed: false,
  queue: "live",
};

export function metricInfo(m: Metric): MetricInfo {
  // A figure a newer server adds reads as a plain number until this console knows it.
  return METRICS.find((x) => x.metric === m) ?? { ...UNKNOWN, metric: m, label: m };
}

const RANK: Record<Level, number> = { ok: 0, amber: 1, red: 2 };

export function worse(a: Level, b: Level): Level {
  return RANK[b] > RANK[a] ? b : a;
}

export function isWorse(level: Level, than: Level): boolean {
  return RANK[level] > RANK[than];
}

/** The worst level among `states` of `department` (every department when
 * undefined), counting only figures shown on `queue` (all when undefined). */
export function worstLevel(
  states: readonly ThresholdState[] | undefined,
  department?: string,
  queue?: "live" | "hangup",
): Level {
  let out: Level = "ok";
  for (const s of states ?? []) {
    if (department !== undefined && s.department !== department) continue;
    if (queue !== undefined && metricInfo(s.metric).queue !== queue) continue;
    out = worse(out, s.level);
  }
  return out;
}

/** A figure as a person reads it: "5", "2:05", "80 %", "12 min"; "—" when unknown. */
export function formatValue(m: Metric, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  switch (metricInfo(m).unit) {
    case "percent":
      return `${round(v * 100, 1)} %`;
    case "seconds": {
      const s = Math.max(0, Math.round(v));
      return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    }
    case "minutes":
      return `${Math.round(v)} min`;
    case "count":
      return String(Math.round(v));
  }
}

/** One sentence for a banner or a notification. */
export function crossingText(c: ThresholdCrossed, departmentName: string): string {
  const info = metricInfo(c.metric);
  const limit = c.threshold === null || c.threshold === undefined ? "" : formatValue(c.metric, c.threshold);
  const cmp = info.lowerIsWorse ? "≤" : "≥";
  if (c.level === "ok")
    return `${departmentName}: ${info.label} is back to normal (${formatValue(c.metric, c.value)}).`;
  return `${departmentName}: ${info.label} is ${c.level.toUpperCase()} — ${formatValue(c.metric, c.value)}${
    limit ? ` (${cmp} ${limit})` : ""
  }.`;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The unit a level is typed in on the editor. */
export function inputUnit(m: Metric): string {
  switch (metricInfo(m).unit) {
    case "percent":
      return "%";
    case "seconds":
      return "s";
    case "minutes":
      return "min";
    case "count":
      return "calls";
  }
}

// ---- The editor's draft ---------------------------------------------------

export interface RowDraft {
  amber: string;
  red: string;
  window: string;
  quiet: string;
}

/** Drafts keyed `${department}\u0000${metric}`. */
export type Drafts = Record<string, RowDraft>;

export function rowKey(department: string, metric: Metric): string {
  return `${department}\u0000${metric}`;
}

export const EMPTY_ROW: RowDraft = { amber: "", red: "", window: "30", quiet: "10" };

function toInput(m: Metric, v: number | null | undefined): string {
  if (v === null || v === undefined) return "";
  return String(metricInfo(m).unit === "percent" ? round(v * 100, 4) : v);
}

export function toDrafts(cfg: ThresholdConfig | undefined): Drafts {
  const out: Drafts = {};
  for (const t of cfg?.thresholds ?? []) {
    out[rowKey(t.department, t.metric)] = {
      amber: toInput(t.metric, t.amber),
      red: toInput(t.metric, t.red),
      window: String(t.window_minutes ?? 30),
      quiet: String(t.quiet_minutes ?? 10),
    };
  }
  return out;
}

export type RowErrors = Partial<Record<keyof RowDraft, string>>;

function parseLevel(m: Metric, s: string): { value: number | null; error?: string } {
  const t = s.trim();
  if (!t) return { value: null };
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0) return { value: null, error: "A number, 0 or more." };
  if (metricInfo(m).unit === "percent") {
    if (n > 100) return { value: null, error: "A percentage, 0–100." };
    return { value: round(n / 100, 6) };
  }
  return { value: n };
}

function parseMinutes(s: string, min: number): { value: number; error?: string } {
  const n = Number(s.trim());
  if (!s.trim() || !Number.isInteger(n) || n < min || n > 1440)
    return { value: 0, error: `Whole minutes, ${min}–1440.` };
  return { value: n };
}

/** The thresholds of the drafts (rows with neither level are left out), or
 * the errors per row. Thresholds of departments the editor does not show
 * (an inactive provider) are kept as `previous` has them: a save replaces
 * every threshold. */
export function fromDrafts(
  drafts: Drafts,
  departments: readonly string[],
  previous: readonly Threshold[] = [],
): { thresholds: Threshold[]; errors: Record<string, RowErrors> } {
  const thresholds: Threshold[] = previous.filter((t) => !departments.includes(t.department));
  const errors: Record<string, RowErrors> = {};
  for (const department of departments) {
    for (const { metric, lowerIsWorse } of METRICS) {
      const key = rowKey(department, metric);
      const d = drafts[key];
      if (!d || (!d.amber.trim() && !d.red.trim())) continue;
      const e: RowErrors = {};
      const amber = parseLevel(metric, d.amber);
      const red = parseLevel(metric, d.red);
      if (amber.error) e.amber = amber.error;
      if (red.error) e.red = red.error;
      if (amber.value !== null && red.value !== null) {
        const ordered = lowerIsWorse ? red.value <= amber.value : red.value >= amber.value;
        if (!ordered) e.red = lowerIsWorse ? "Red must be at or below amber." : "Red must be at or above amber.";
      }
      const window = parseMinutes(d.window, 1);
      const quiet = parseMinutes(d.quiet, 0);
      if (window.error) e.window = window.error;
      if (quiet.error) e.quiet = quiet.error;
      if (Object.keys(e).length) {
        errors[key] = e;
        continue;
      }
      thresholds.push({
        department,
        metric,
        amber: amber.value,
        red: red.value,
        window_minutes: window.value,
        quiet_minutes: quiet.value,
      });
    }
  }
  return { thresholds, errors };
}
