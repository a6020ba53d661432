// How a list was made from the one before it. A reader that keeps work per
// list (the call grid's sort) can then redo only what changed, instead of
// comparing every item of the new list with the old one.

/** A list's identity, given on first asking (lists are never mutated here). */
const ids = new WeakMap<readonly object[], number>();
let nextId = 1;

export function listId(list: readonly object[]): number {
  let id = ids.get(list);
  if (id === undefined) {
    id = nextId++;
    ids.set(list, id);
  }
  return id;
}

export interface ListDelta<T> {
  /** `listId` of the list this one was made from (not the list: lists made
   * one from another would otherwise keep every earlier one alive). */
  baseId: number;
  /** Items of that list replaced by a newer item, in its place, or dropped (null). */
  replaced: ReadonlyMap<T, T | null>;
  /** New items, put on top, in the new list's order. */
  prepended: readonly T[];
}

const deltas = new WeakMap<readonly object[], ListDelta<unknown>>();

/** Records that `list` is `base` with `replaced` and `prepended` applied. */
export function recordDelta<T extends object>(
  list: readonly T[],
  base: readonly T[],
  replaced: ReadonlyMap<T, T | null>,
  prepended: readonly T[],
): void {
  deltas.set(list, { baseId: listId(base), replaced, prepended });
}

export function deltaOf<T extends object>(list: readonly T[]): ListDelta<T> | undefined {
  return deltas.get(list) as ListDelta<T> | undefined;
}
