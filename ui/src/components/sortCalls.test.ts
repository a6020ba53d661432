import { describe, expect, it } from "vitest";
import {
  createTable,
  getCoreRowModel,
  getSortedRowModel,
  type ColumnDef,
  type SortingState,
} from "@tanstack/react-table";
import type { Call } from "../api/types";
import { patchLiveBatch } from "../stream/apply";
import { CallSorter, sortsByTicking } from "./sortCalls";

// A fixed run of pseudo-random numbers (mulberry32).
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ["waiting", "ringing", "active", "missed"] as const;
const ORDER: Record<string, number> = { waiting: 0, ringing: 1, active: 2, missed: 3 };
const AGENTS = ["Agent 2", "agent 10", "Agent 1", "bo", "Bo", "Zed", "a1b2", "a1b10", "", "Mia 3 x"];

function makeCall(random: () => number, n: number, version = 1): Call {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)] as T;
  const t = Date.UTC(2026, 11, 4, 8) + Math.floor(random() * 36_000) * 1000;
  return {
    id: n,
    call_id: `C${n}`,
    department: "sales",
    attempts: 0,
    created_at: new Date(t).toISOString(),
    started_at: random() < 0.9 ? new Date(t).toISOString() : null,
    updated_at: new Date(t).toISOString(),
    events_count: 1,
    metadata: {},
    version,
    status: pick(STATUSES),
    work_state: "pending",
    mobile_number: random() < 0.9 ? `+9198${String(Math.floor(random() * 1e8)).padStart(8, "0")}` : null,
    agent_name: random() < 0.7 ? pick(AGENTS) : null,
  } as Call;
}

const columns: ColumnDef<Call, unknown>[] = [
  { id: "caller", accessorFn: (c) => c.mobile_number ?? "", sortingFn: "basic" },
  { id: "status", accessorFn: (c) => ORDER[c.status ?? ""] ?? 9 },
  { id: "agent", accessorFn: (c) => c.agent_name ?? "", sortingFn: "alphanumeric" },
  { id: "agentAuto", accessorFn: (c) => c.agent_name ?? "" },
  { id: "agentText", accessorFn: (c) => c.agent_name ?? "", sortingFn: "text" },
  { id: "started", accessorFn: (c) => c.started_at ?? c.created_at, sortingFn: "basic" },
  // Undefined values: placed after the others (sortUndefined 1), or as asked.
  { id: "startedRaw", accessorFn: (c) => c.started_at ?? undefined, sortingFn: "basic" },
  { id: "startedFirst", accessorFn: (c) => c.started_at ?? undefined, sortingFn: "basic", sortUndefined: "first" },
  {
    id: "custom",
    accessorFn: (c) => c.call_id,
    sortingFn: (a, b, id) => (a.getValue<string>(id).length - b.getValue<string>(id).length) * -1,
  },
  { id: "inverted", accessorFn: (c) => c.id, invertSorting: true },
  { id: "display", header: "Not sortable", enableSorting: false, accessorFn: (c) => c.id },
];

/** The order TanStack Table's own sorted row model gives. */
function tanstack(data: readonly Call[], sorting: SortingState): string[] {
  return tanstackOf(columns, data, sorting);
}

const SORTS: SortingState[] = [
  [],
  [{ id: "status", desc: false }],
  [{ id: "status", desc: true }],
  [{ id: "started", desc: false }],
  [{ id: "started", desc: true }],
  [{ id: "caller", desc: false }],
  [{ id: "agent", desc: false }],
  [{ id: "agent", desc: true }],
  [{ id: "agentAuto", desc: false }],
  [{ id: "agentText", desc: true }],
  [{ id: "startedRaw", desc: false }],
  [{ id: "startedRaw", desc: true }],
  [{ id: "startedFirst", desc: true }],
  [{ id: "custom", desc: false }],
  [{ id: "inverted", desc: false }],
  [{ id: "display", desc: false }],
  [
    { id: "status", desc: false },
    { id: "agent", desc: true },
    { id: "started", desc: false },
  ],
];

describe("CallSorter", () => {
  it("gives TanStack Table's order for every kind of column", () => {
    const random = rng(7);
    const calls = Array.from({ length: 400 }, (_, i) => makeCall(random, i));
    for (const sorting of SORTS) {
      const got = new CallSorter().sort(calls, columns, sorting).map((c) => c.call_id);
      expect(got, JSON.stringify(sorting)).toEqual(tanstack(calls, sorting));
    }
  });

  it("keeps giving it while the stream patches the list", () => {
    for (const sorting of SORTS.slice(1, 8)) {
      const random = rng(11);
      let n = 0;
      let list: Call[] = Array.from({ length: 300 }, () => makeCall(random, n++));
      const sorter = new CallSorter();
      const versions = new Map<string, number>();
      for (let round = 0; round < 25; round++) {
        const batch: Call[] = [];
        for (let k = 0; k < 1 + Math.floor(random() * 12); k++) {
          const r = random();
          if (r < 0.2) batch.push(makeCall(random, n++));
          else {
            const old = list[Math.floor(random() * list.length)];
            if (!old) continue;
            const v = (versions.get(old.call_id) ?? old.version) + 1;
            versions.set(old.call_id, v);
            // A status change (the row moves), or the call ends (it leaves).
            const next = { ...makeCall(random, old.id, v), call_id: old.call_id };
            batch.push(r < 0.3 ? { ...next, status: "completed" } : next);
          }
        }
        list = patchLiveBatch(list, batch, "sales");
        const got = sorter.sort(list, columns, sorting).map((c) => c.call_id);
        expect(got, `${JSON.stringify(sorting)} round ${round}`).toEqual(tanstack(list, sorting));
        // A filtered view of the same list (the search box) sorts the same way.
        const some = list.filter((c) => c.status !== "ringing");
        expect(new CallSorter().sort(some, columns, sorting).map((c) => c.call_id)).toEqual(tanstack(some, sorting));
      }
    }
  });

  it("sorts in a patch's changes alone, and a list from elsewhere in full", () => {
    const random = rng(5);
    let n = 0;
    let compared = 0;
    const counted: ColumnDef<Call, unknown>[] = [
      {
        id: "started",
        accessorFn: (c) => c.started_at ?? c.created_at,
        sortingFn: (a, b, id) => {
          compared++;
          const x = a.getValue<string>(id);
          const y = b.getValue<string>(id);
          return x === y ? 0 : x > y ? 1 : -1;
        },
      },
    ];
    const sorting: SortingState = [{ id: "started", desc: false }];
    const check = (list: Call[]) => expect(got(list)).toEqual(tanstackOf(counted, list, sorting));
    const sorter = new CallSorter();
    const got = (list: Call[]) => sorter.sort(list, counted, sorting).map((c) => c.call_id);
    let list: Call[] = Array.from({ length: 2000 }, () => makeCall(random, n++));
    check(list);
    for (let round = 0; round < 10; round++) {
      const old = list[Math.floor(random() * list.length)]!;
      const batch = [
        makeCall(random, n++),
        { ...makeCall(random, old.id, old.version + 1), call_id: old.call_id },
        { ...list[7]!, version: list[7]!.version + 1, status: "completed" },
      ];
      list = patchLiveBatch(list, batch as Call[], "sales");
      compared = 0;
      const order = got(list);
      // A binary search per change, not a pass over two thousand calls.
      expect(compared).toBeLessThan(200);
      expect(order).toEqual(tanstackOf(counted, list, sorting));
    }
    // The same calls fetched again, in another order: sorted in full, rightly.
    list = [...list].reverse();
    check(list);
    list = patchLiveBatch(list, [makeCall(random, n++)], "sales");
    check(list);
  });

  it("gives the list itself when there is nothing to sort by, and lists one object twice as two rows", () => {
    const random = rng(3);
    const calls = Array.from({ length: 20 }, (_, i) => makeCall(random, i));
    expect(new CallSorter().sort(calls, columns, [])).toBe(calls);
    const twice = [...calls, calls[3] as Call];
    const sorter = new CallSorter();
    const sorting: SortingState = [{ id: "status", desc: false }];
    expect(sorter.sort(twice, columns, sorting)).toHaveLength(21);
    expect(sorter.sort([...twice], columns, sorting).map((c) => c.call_id)).toEqual(tanstack(twice, sorting));
  });

  it("reads a ticking column again only when the epoch changes", () => {
    let now = 1000;
    // A waiting call's time grows with the clock; an ended call's stays.
    const ticking: ColumnDef<Call, unknown>[] = [
      { id: "waited", accessorFn: (c) => (c.status === "waiting" ? now - c.id : 950), meta: { ticking: true } },
    ];
    const sorting: SortingState = [{ id: "waited", desc: false }];
    expect(sortsByTicking(ticking, sorting)).toBe(true);
    expect(sortsByTicking(columns, [{ id: "started", desc: false }])).toBe(false);
    const a = { id: 100, call_id: "a", status: "waiting" } as Call;
    const b = { id: 40, call_id: "b", status: "missed" } as Call;
    const sorter = new CallSorter();
    const ids = (l: readonly Call[]) => l.map((c) => c.call_id);
    expect(ids(sorter.sort([a, b], ticking, sorting, 1))).toEqual(["a", "b"]);
    now = 2000;
    // Same epoch: the keys made before stand.
    expect(ids(sorter.sort([a, b], ticking, sorting, 1))).toEqual(["a", "b"]);
    expect(ids(sorter.sort([a, b], ticking, sorting, 2))).toEqual(["b", "a"]);
    expect(tanstackOf(ticking, [a, b], sorting)).toEqual(["b", "a"]);
  });
});

function tanstackOf(cols: ColumnDef<Call, unknown>[], data: readonly Call[], sorting: SortingState): string[] {
  const table = createTable<Call>({
    data: data as Call[],
    columns: cols,
    state: { sorting },
    onStateChange: () => undefined,
    renderFallbackValue: null,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  return table.getRowModel().rows.map((r) => r.original.call_id);
}
