// Undo and redo over immutable snapshots. Edits that carry the same `group`
// within `COALESCE_MS` of each other (typing in one field, dragging one node)
// are one step, so Ctrl+Z takes back a word or a drag, not a keystroke.

export const LIMIT = 200;
export const COALESCE_MS = 800;

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  group: string | null;
  at: number;
}

export function start<T>(present: T): History<T> {
  return { past: [], present, future: [], group: null, at: 0 };
}

/** Records `next` as the present; `group` merges it with the previous edit of the same group. */
export function push<T>(h: History<T>, next: T, group: string | null = null, now = Date.now()): History<T> {
  if (next === h.present) return h;
  if (group !== null && group === h.group && now - h.at <= COALESCE_MS) {
    return { ...h, present: next, future: [], at: now };
  }
  const past = [...h.past, h.present];
  if (past.length > LIMIT) past.splice(0, past.length - LIMIT);
  return { past, present: next, future: [], group, at: now };
}

export function undo<T>(h: History<T>): History<T> {
  const prev = h.past[h.past.length - 1];
  if (prev === undefined) return h;
  return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future], group: null, at: 0 };
}

export function redo<T>(h: History<T>): History<T> {
  const [next, ...rest] = h.future;
  if (next === undefined) return h;
  return { past: [...h.past, h.present], present: next, future: rest, group: null, at: 0 };
}

/** Replaces the whole history (a reload from the server). */
export function reset<T>(present: T): History<T> {
  return start(present);
}
