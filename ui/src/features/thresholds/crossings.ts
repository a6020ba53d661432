// The crossings a person has not dismissed yet: fed by the stream's
// `threshold.crossed` events, read by the banner and the tab title, and
// announced (browser notification) when a figure gets worse.
import { useSyncExternalStore } from "react";
import { isWorse, rowKey, type Level, type Metric, type ThresholdCrossed, type ThresholdState } from "./model";

export interface Crossing {
  key: string;
  department: string;
  metric: Metric;
  level: Level;
  value: number | null;
  threshold: number | null;
  at: string;
}

/** `list` after `c`: a worse level raises (and is announced), back to ok
 * clears, a better but still alerting level updates quietly. */
export function applyCrossing(
  list: readonly Crossing[],
  c: ThresholdCrossed,
  at: string,
): { list: Crossing[]; raised: Crossing | null } {
  const key = rowKey(c.department, c.metric);
  const rest = list.filter((x) => x.key !== key);
  if (c.level === "ok") return { list: rest, raised: null };
  const entry: Crossing = {
    key,
    department: c.department,
    metric: c.metric,
    level: c.level,
    value: c.value ?? null,
    threshold: c.threshold ?? null,
    at,
  };
  if (isWorse(c.level, c.previous)) return { list: [entry, ...rest], raised: entry };
  const had = list.some((x) => x.key === key);
  return { list: had ? list.map((x) => (x.key === key ? entry : x)) : list.slice(), raised: null };
}

type Listener = () => void;

export class CrossingStore {
  private list: Crossing[] = [];
  private seeded = false;
  private readonly listeners = new Set<Listener>();
  private readonly raisers = new Set<(c: Crossing) => void>();

  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  snapshot = (): readonly Crossing[] => this.list;

  /** Called for each crossing that gets worse (the browser notification). */
  onRaise(fn: (c: Crossing) => void): () => void {
    this.raisers.add(fn);
    return () => this.raisers.delete(fn);
  }

  receive(c: ThresholdCrossed, at: string): void {
    const { list, raised } = applyCrossing(this.list, c, at);
    this.set(list);
    if (raised) for (const fn of this.raisers) fn(raised);
  }

  /** The levels as the console finds them when it opens: a threshold that
   * is already amber or red shows in the banner (quietly: nothing got worse
   * while watching). Once per session, so a dismissed one stays dismissed. */
  seed(states: readonly ThresholdState[]): void {
    if (this.seeded) return;
    this.seeded = true;
    const known = new Set(this.list.map((x) => x.key));
    const found: Crossing[] = states
      .filter((st) => st.level !== "ok" && !known.has(rowKey(st.department, st.metric)))
      .map((st) => ({
        key: rowKey(st.department, st.metric),
        department: st.department,
        metric: st.metric,
        level: st.level,
        value: st.value ?? null,
        threshold: st.threshold ?? null,
        at: st.since,
      }));
    if (found.length)
      this.set([...this.list, ...found.sort((a, b) => (a.level === b.level ? 0 : a.level === "red" ? -1 : 1))]);
  }

  dismiss(key: string): void {
    this.set(this.list.filter((x) => x.key !== key));
  }

  clear(): void {
    this.seeded = false;
    this.set([]);
  }

  private set(list: Crossing[]): void {
    this.list = list;
    for (const fn of this.listeners) fn();
  }
}

/** The console's one store (cleared when the stream of a session stops). */
export const crossings = new CrossingStore();

export function useCrossings(): readonly Crossing[] {
  return useSyncExternalStore(crossings.subscribe, crossings.snapshot);
}
