// The call grid's client-side sort, kept between renders. TanStack Table's
// own sorted row model builds a Row for every call, copies each and sorts
// them all again whenever one call changes: with ten thousand live calls and
// the stream changing a few every frame, that was most of the page's time.
// This sorter gives the same order (the same comparisons, ties kept in list
// order, undefined values placed as `sortUndefined` says) and, when the list
// changed by a few calls, starts from the order it had: the sort then runs
// over one long sorted run and the few new calls, close to one pass.
import type { ColumnDef, Row, RowData, SortingFn, SortingState } from "@tanstack/react-table";
import type { Call } from "../api/types";
import { deltaOf, listId, type ListDelta } from "../lib/listDelta";

declare module "@tanstack/react-table" {
  // The interface is TanStack's; its type parameters must stay as declared.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData extends RowData, TValue> {
    /** The value moves with the clock (a running duration): a sort by it is
     * redone at each tick of the shared clock (`useSecond`). */
    ticking?: boolean;
  }
}

type Kind = "basic" | "datetime" | "text" | "textCase" | "alnum" | "alnumCase" | "auto" | "fn";

interface SortColumn {
  id: string;
  desc: boolean;
  invert: boolean;
  sortUndefined: false | -1 | 1 | "first" | "last";
  kind: Kind;
  fn: SortingFn<Call> | null;
  value: (c: Call, i: number) => unknown;
}

interface Entry {
  call: Call;
  /** The compared form of each sort column's value (undefined stays undefined). */
  keys: unknown[];
  /** Raw values, for a column with its own sorting function. */
  raw: unknown[] | null;
  /** Rank in the list given (its position, or a rank in the same order):
   * ties keep the list's order. */
  at: number;
  /** The pass that last saw it. */
  seen: number;
}

type Chunk = string | number;

const reSplitAlphaNumeric = /([0-9]+)/gm;

/** TanStack's `toString` for sorting: finite numbers as text, strings as they are, else "". */
function sortText(v: unknown): string {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  return typeof v === "string" ? v : "";
}

/** A string cut into runs of digits (numbers) and of anything else, once per
 * call rather than at every comparison. */
function chunks(s: string): Chunk[] {
  return s
    .split(reSplitAlphaNumeric)
    .filter(Boolean)
    .map((part) => {
      const n = parseInt(part, 10);
      return Number.isNaN(n) ? part : n;
    });
}

/** TanStack's `compareAlphanumeric` over cut strings: text before numbers,
 * numbers by value, then the shorter first. */
function compareChunks(a: Chunk[], b: Chunk[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as Chunk;
    const y = b[i] as Chunk;
    const xs = typeof x === "string";
    const ys = typeof y === "string";
    if (xs !== ys) return xs ? -1 : 1;
    if (x > y) return 1;
    if (y > x) return -1;
  }
  return a.length - b.length;
}

function compareBasic(a: unknown, b: unknown): number {
  // Values of one column: numbers with numbers, strings with strings.
  return a === b ? 0 : (a as number) > (b as number) ? 1 : -1;
}

function prepare(kind: Kind, v: unknown): unknown {
  if (v === undefined) return undefined;
  switch (kind) {
    case "text":
      return sortText(v).toLowerCase();
    case "textCase":
      return sortText(v);
    case "alnum":
      return chunks(sortText(v).toLowerCase());
    case "alnumCase":
      return chunks(sortText(v));
    case "auto":
      // TanStack's auto sort picks `alphanumeric` (or `text`, the same order
      // for strings without digits) for strings, `datetime` for dates, else `basic`.
      return typeof v === "string" ? chunks(v.toLowerCase()) : v;
    default:
      return v;
  }
}

const BUILT_IN: Record<string, Kind> = {
  auto: "auto",
  basic: "basic",
  datetime: "datetime",
  text: "text",
  textCaseSensitive: "textCase",
  alphanumeric: "alnum",
  alphanumericCaseSensitive: "alnumCase",
};

type Def = ColumnDef<Call, unknown> & {
  accessorKey?: string;
  accessorFn?: (c: Call, i: number) => unknown;
  columns?: Def[];
};

function leafDefs(defs: readonly Def[], out: Def[] = []): Def[] {
  for (const d of defs) {
    if (d.columns?.length) leafDefs(d.columns, out);
    else out.push(d);
  }
  return out;
}

/** A column's id and value as TanStack resolves them (id, else accessorKey, else a string header). */
function resolve(d: Def): { id: string | undefined; value: ((c: Call, i: number) => unknown) | undefined } {
  const key = d.accessorKey;
  const id = d.id ?? key?.replaceAll(".", "_") ?? (typeof d.header === "string" ? d.header : undefined);
  let value = d.accessorFn;
  if (!value && key) {
    const path = key.split(".");
    value = (c) => path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c);
  }
  return { id, value };
}

/** The sortable columns `sorting` names, in its order. */
function sortColumns(columns: readonly ColumnDef<Call, unknown>[], sorting: SortingState): SortColumn[] {
  const byId = new Map<string, Def>();
  for (const d of leafDefs(columns as readonly Def[])) {
    const { id } = resolve(d);
    if (id !== undefined && !byId.has(id)) byId.set(id, d);
  }
  const out: SortColumn[] = [];
  for (const s of sorting) {
    const d = byId.get(s.id);
    if (!d || d.enableSorting === false) continue;
    const { value } = resolve(d);
    if (!value) continue;
    const fn = typeof d.sortingFn === "function" ? (d.sortingFn as SortingFn<Call>) : null;
    out.push({
      id: s.id,
      desc: s.desc ?? false,
      invert: d.invertSorting ?? false,
      sortUndefined: d.sortUndefined ?? 1,
      kind: fn ? "fn" : (BUILT_IN[(d.sortingFn as string | undefined) ?? "auto"] ?? "auto"),
      fn,
      value,
    });
  }
  return out;
}

/** Whether sorting by `sorting` reads the clock (a column marked `ticking`). */
export function sortsByTicking(columns: readonly ColumnDef<Call, unknown>[], sorting: SortingState): boolean {
  if (sorting.length === 0) return false;
  const ids = new Set(sorting.map((s) => s.id));
  return leafDefs(columns as readonly Def[]).some((d) => d.meta?.ticking && ids.has(resolve(d).id ?? ""));
}

/** Sorts call lists as TanStack Table's `getSortedRowModel` would, reusing
 * the previous order and each call's keys while the columns and the sorting
 * stay the same. One instance per table. */
export class CallSorter {
  private columns: readonly ColumnDef<Call, unknown>[] | null = null;
  private sorting: SortingState | null = null;
  private epoch = 0;
  private spec: SortColumn[] = [];
  private cmp: (a: Entry, b: Entry) => number = () => 0;
  private entries = new Map<Call, Entry>();
  private sorted: Entry[] = [];
  /** The calls of `sorted`, in its order. */
  private out: Call[] = [];
  private pass = 0;
  /** `listId` of the list last sorted (0: none). */
  private input = 0;
  /** The lowest rank given: calls put on top of the list rank below it. */
  private minRank = 0;
  /** The last list held an object twice (only a full pass handles that). */
  private twice = false;

  /** `calls` in the order `sorting` asks for (the same array when there is
   * nothing to sort by). `epoch` changes when ticking values must be read
   * again (the clock's second); keep it fixed otherwise. */
  sort(
    calls: readonly Call[],
    columns: readonly ColumnDef<Call, unknown>[],
    sorting: SortingState,
    epoch = 0,
  ): readonly Call[] {
    if (columns !== this.columns || sorting !== this.sorting || epoch !== this.epoch) {
      this.columns = columns;
      this.sorting = sorting;
      this.epoch = epoch;
      this.spec = sortColumns(columns, sorting);
      this.cmp = this.compare(this.spec);
      this.entries = new Map();
      this.sorted = [];
      this.out = [];
      this.input = 0;
    }
    if (this.spec.length === 0) {
      this.entries = new Map();
      this.sorted = [];
      this.out = [];
      this.input = 0;
      return calls;
    }
    // A list the stream patched from the one sorted last: only its changes
    // are sorted in (each found and placed by binary search).
    const delta = deltaOf(calls);
    if (delta && this.input !== 0 && delta.baseId === this.input && !this.twice && this.patch(delta)) {
      this.input = listId(calls);
      return this.out.slice();
    }
    this.input = listId(calls);
    return this.full(calls);
  }

  /** Every call of `calls` looked up, the new ones keyed, all sorted again
   * from the last order (one long sorted run and the few new ones). */
  private full(calls: readonly Call[]): Call[] {
    const pass = ++this.pass;
    const entries = this.entries;
    const fresh: Entry[] = [];
    this.twice = false;
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i] as Call;
      const e = entries.get(call);
      if (e && e.seen !== pass) {
        e.at = i;
        e.seen = pass;
        continue;
      }
      const made = this.entry(call, i, pass);
      // The same object twice in a list: the second is a row of its own.
      if (e) this.twice = true;
      else entries.set(call, made);
      fresh.push(made);
    }
    const kept: Entry[] = [];
    for (const e of this.sorted) {
      if (e.seen === pass && entries.get(e.call) === e) kept.push(e);
      else if (entries.get(e.call) === e) entries.delete(e.call);
    }
    this.minRank = 0;
    // `kept` is in the order of the last pass, and the list keeps its calls'
    // order between patches: the sort merges `fresh` into one sorted run.
    const next = fresh.length ? kept.concat(fresh) : kept;
    next.sort(this.cmp);
    this.sorted = next;
    this.out = next.map((e) => e.call);
    return this.out.slice();
  }

  /** Applies a patch to the sorted entries; false if it does not fit them
   * (the full pass then puts everything right). */
  private patch(delta: ListDelta<Call>): boolean {
    const { entries, sorted, out, cmp } = this;
    const at = (e: Entry): number => {
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cmp(sorted[mid] as Entry, e) < 0) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (const [old, call] of delta.replaced) {
      const e = entries.get(old);
      if (!e) return false;
      const i = at(e);
      if (sorted[i] !== e) return false;
      sorted.splice(i, 1);
      out.splice(i, 1);
      entries.delete(old);
      if (call) {
        // The newer call takes the old one's place in the list.
        const made = this.entry(call, e.at, 0);
        if (entries.has(call)) return false;
        entries.set(call, made);
        const k = at(made);
        sorted.splice(k, 0, made);
        out.splice(k, 0, call);
      }
    }
    // New calls, the latest first: each ranks before all the list had.
    for (let j = delta.prepended.length - 1; j >= 0; j--) {
      const call = delta.prepended[j] as Call;
      if (entries.has(call)) return false;
      const made = this.entry(call, --this.minRank, 0);
      entries.set(call, made);
      const k = at(made);
      sorted.splice(k, 0, made);
      out.splice(k, 0, call);
    }
    return true;
  }

  private entry(call: Call, at: number, seen: number): Entry {
    const keys: unknown[] = [];
    let raw: unknown[] | null = null;
    this.spec.forEach((col, j) => {
      const v = col.value(call, at);
      keys.push(prepare(col.kind, v));
      if (col.fn) (raw ??= [])[j] = v;
    });
    return { call, keys, raw, at, seen };
  }

  private compare(spec: SortColumn[]): (a: Entry, b: Entry) => number {
    const asRow = (e: Entry, j: number): Row<Call> =>
      ({
        id: "",
        index: e.at,
        original: e.call,
        getValue: () => e.raw?.[j],
      }) as unknown as Row<Call>;
    return (a, b) => {
      for (let j = 0; j < spec.length; j++) {
        const col = spec[j] as SortColumn;
        const x = a.keys[j];
        const y = b.keys[j];
        let r = 0;
        const su = col.sortUndefined;
        if (su && (x === undefined || y === undefined)) {
          if (su === "first") return x === undefined ? -1 : 1;
          if (su === "last") return x === undefined ? 1 : -1;
          r = x === undefined && y === undefined ? 0 : x === undefined ? su : -su;
        }
        if (r === 0) {
          if (col.fn) r = col.fn(asRow(a, j), asRow(b, j), col.id);
          else if (Array.isArray(x) && Array.isArray(y)) r = compareChunks(x as Chunk[], y as Chunk[]);
          else if (col.kind === "datetime")
            r = (x as number) > (y as number) ? 1 : (x as number) < (y as number) ? -1 : 0;
          else r = compareBasic(x, y);
        }
        if (r !== 0) {
          if (col.desc) r = -r;
          if (col.invert) r = -r;
          return r;
        }
      }
      return a.at - b.at;
    };
  }
}
