import { useEffect, useState, useSyncExternalStore } from "react";

/** The current time, re-rendering every `ms` (durations tick on screen). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

// One clock for every ticking cell on screen: a single interval, however many
// cells read it, and only while one does. A big table's rows never re-render
// for it; the cells that show a running time do, each on its own.
const listeners = new Set<() => void>();
let second = Date.now();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    // React compares the snapshot again after subscribing: a clock that was
    // idle shows the time now, not when it last ticked.
    second = Date.now();
    timer = setInterval(() => {
      second = Date.now();
      for (const l of [...listeners]) l();
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

const noSubscribe = () => () => undefined;

/** The time of the shared clock's last tick (ms): the same value for every
 * reader between ticks, so sort keys made from it agree with each other. */
export function currentSecond(): number {
  return timer === null ? Date.now() : second;
}

/** The shared one-second clock, re-rendering the caller at each tick; `on`
 * false reads nothing and never re-renders. */
export function useSecond(on = true): number {
  return useSyncExternalStore(on ? subscribe : noSubscribe, on ? () => second : () => 0);
}
