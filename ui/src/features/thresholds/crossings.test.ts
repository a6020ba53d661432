import { describe, expect, it } from "vitest";
import { applyCrossing, CrossingStore } from "./crossings";
import type { ThresholdCrossed } from "./model";

const ev = (level: ThresholdCrossed["level"], previous: ThresholdCrossed["previous"], value = 3): ThresholdCrossed => ({
  department: "sales",
  metric: "waiting_count",
  level,
  previous,
  value,
  threshold: 2,
});

describe("applyCrossing", () => {
  it("raises a worse level, updates a better one quietly and clears at ok", () => {
    const a = applyCrossing([], ev("amber", "ok"), "t1");
    expect(a.raised?.level).toBe("amber");
    expect(a.list).toHaveLength(1);
    const r = applyCrossing(a.list, ev("red", "amber", 5), "t2");
    expect(r.raised?.level).toBe("red");
    expect(r.list).toHaveLength(1);
    const back = applyCrossing(r.list, ev("amber", "red", 3), "t3");
    expect(back.raised).toBeNull();
    expect(back.list[0]?.level).toBe("amber");
    expect(applyCrossing(back.list, ev("ok", "amber", 0), "t4").list).toEqual([]);
  });

  it("does not bring back a dismissed crossing that only got better", () => {
    expect(applyCrossing([], ev("amber", "red"), "t").list).toEqual([]);
  });
});

describe("CrossingStore", () => {
  it("tells subscribers and raisers, and forgets on dismiss", () => {
    const s = new CrossingStore();
    let changes = 0;
    const raised: string[] = [];
    s.subscribe(() => changes++);
    s.onRaise((c) => raised.push(c.level));
    s.receive(ev("amber", "ok"), "t1");
    s.receive(ev("amber", "red"), "t2");
    expect(raised).toEqual(["amber"]);
    expect(changes).toBe(2);
    const first = s.snapshot()[0];
    expect(first?.key).toBeDefined();
    if (first) s.dismiss(first.key);
    expect(s.snapshot()).toEqual([]);
  });
});

describe("CrossingStore.seed", () => {
  const st = (department: string, level: ThresholdCrossed["level"]) => ({
    department,
    metric: "longest_wait_seconds" as const,
    level,
    since: "2026-12-03T10:00:00Z",
    value: 900,
    threshold: 600,
  });

  it("shows what is already amber or red when the console opens, quietly and once", () => {
    const store = new CrossingStore();
    const raised: string[] = [];
    store.onRaise((c) => raised.push(c.key));
    store.seed([st("sales", "amber"), st("support", "red"), st("billing", "ok")]);
    expect(store.snapshot().map((c) => [c.department, c.level])).toEqual([
      ["support", "red"],
      ["sales", "amber"],
    ]);
    expect(raised).toEqual([]);
    const first = store.snapshot()[0];
    if (first) store.dismiss(first.key);
    store.seed([st("sales", "amber"), st("support", "red")]);
    expect(store.snapshot()).toHaveLength(1);
    store.clear();
    store.seed([st("support", "red")]);
    expect(store.snapshot()).toHaveLength(1);
  });
});
