// The call history's filters, kept in the address bar so a reload, a
// bookmark or a shared link shows the same list; and their translation to
// the `GET /api/calls` query.
import { OUTCOMES, STATUSES, type Outcome, type Status } from "../../api/types";
import { DAY, localMidnight } from "../../lib/days";

export interface HistoryFilters {
  /** Number, name or call id (part of it). */
  q: string;
  /** YYYY-MM-DD, the first day included (local time). */
  from: string;
  /** YYYY-MM-DD, the last day included (local time). */
  to: string;
  department: string;
  status: Status | "";
  agent: string;
  outcome: Outcome | "";
}

export const EMPTY_FILTERS: HistoryFilters = {
  q: "",
  from: "",
  to: "",
  department: "",
  status: "",
  agent: "",
  outcome: "",
};

const KEYS = Object.keys(EMPTY_FILTERS) as (keyof HistoryFilters)[];

/** The filters of an address; values it does not understand are dropped. */
export function readFilters(params: URLSearchParams): HistoryFilters {
  const get = (k: string) => (params.get(k) ?? "").trim();
  const status = get("status");
  const outcome = get("outcome");
  return {
    q: get("q"),
    from: DAY.test(get("from")) ? get("from") : "",
    to: DAY.test(get("to")) ? get("to") : "",
    department: get("department"),
    status: (STATUSES as readonly string[]).includes(status) ? (status as Status) : "",
    agent: get("agent"),
    outcome: (OUTCOMES as readonly string[]).includes(outcome) ? (outcome as Outcome) : "",
  };
}

/** `params` with the filters set (empty ones removed); other keys are kept. */
export function writeFilters(params: URLSearchParams, f: HistoryFilters): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const k of KEYS) {
    const v = f[k];
    if (v) next.set(k, v);
    else next.delete(k);
  }
  return next;
}

/** Local midnight of `day` (YYYY-MM-DD) plus `addDays`, as RFC 3339. */
export interface HistoryQuery {
  q?: string;
  from?: string;
  to?: string;
  department?: string;
  status?: string;
  agent?: string;
  outcome?: Outcome;
}

/** The list's query: `to` includes the whole last day. */
export function toQuery(f: HistoryFilters): HistoryQuery {
  return {
    q: f.q || undefined,
    from: localMidnight(f.from),
    to: localMidnight(f.to, 1),
    department: f.department || undefined,
    status: f.status || undefined,
    agent: f.agent || undefined,
    outcome: f.outcome || undefined,
  };
}

export function activeCount(f: HistoryFilters): number {
  return KEYS.filter((k) => f[k] !== "").length;
}
