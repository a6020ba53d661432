// The flow ↔ React Flow conversion: nodes with their place, selection,
// problems and simulator marks; edges from the node fields. Kept pure so the
// unit tests check it without a canvas.
import { MarkerType, type Edge } from "@xyflow/react";
import { edgesOf, type FlowDoc, type ValidationLike } from "./model";
import type { IvrNode } from "./NodeView";

export interface GraphMarks {
  selected: string | null;
  selectedEdge: string | null;
  errors: Map<string, string[]>;
  /** Simulator: nodes in the order the test call visited them. */
  visited: string[];
  readOnly: boolean;
  measured: Record<string, { width: number; height: number }>;
  visits?: Map<string, number>;
}

export function errorsByNode(errors: readonly ValidationLike[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const e of errors) {
    if (!e.node) continue;
    const list = m.get(e.node) ?? [];
    list.push(e.message);
    m.set(e.node, list);
  }
  return m;
}

export function toNodes(doc: FlowDoc, marks: GraphMarks): IvrNode[] {
  const visited = new Set(marks.visited);
  const current = marks.visited[marks.visited.length - 1] ?? null;
  return doc.nodes.map((n) => ({
    id: n.id,
    type: "ivr",
    position: doc.layout[n.id] ?? { x: 0, y: 0 },
    selected: marks.selected === n.id,
    measured: marks.measured[n.id],
    data: {
      node: n,
      entry: doc.entry === n.id,
      errors: marks.errors.get(n.id) ?? [],
      visited: visited.has(n.id),
      current: current === n.id,
      visits: marks.visits?.get(n.id),
      readOnly: marks.readOnly,
    },
  }));
}

export function toEdges(doc: FlowDoc, marks: Pick<GraphMarks, "selectedEdge" | "visited">): Edge[] {
  const walked = new Set<string>();
  for (let i = 1; i < marks.visited.length; i++) walked.add(`${marks.visited[i - 1]}>${marks.visited[i]}`);
  return edgesOf(doc).map((e) => {
    const hot = walked.has(`${e.source}>${e.target}`);
    return {
      id: e.id,
      source: e.source,
      sourceHandle: e.sourceHandle,
      target: e.target,
      label: e.label,
      selected: marks.selectedEdge === e.id,
      animated: hot,
      className: [e.fallback ? "fallback" : "", hot ? "walked" : ""].filter(Boolean).join(" ") || undefined,
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
      data: { fallback: e.fallback },
    };
  });
}

/** The node nearest to `from` in a direction, for moving the selection with the arrow keys. */
export function nearestInDirection(doc: FlowDoc, from: string, dir: "up" | "down" | "left" | "right"): string | null {
  const p = doc.layout[from];
  if (!p) return doc.nodes[0]?.id ?? null;
  let best: string | null = null;
  let bestScore = Infinity;
  for (const n of doc.nodes) {
    if (n.id === from) continue;
    const q = doc.layout[n.id];
    if (!q) continue;
    const dx = q.x - p.x;
    const dy = q.y - p.y;
    const along = dir === "down" ? dy : dir === "up" ? -dy : dir === "right" ? dx : -dx;
    const across = dir === "down" || dir === "up" ? Math.abs(dx) : Math.abs(dy);
    if (along <= 0) continue;
    const score = along + 2 * across;
    if (score < bestScore) {
      bestScore = score;
      best = n.id;
    }
  }
  return best;
}
