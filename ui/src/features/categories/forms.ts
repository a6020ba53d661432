// Validation of the Categories form (pure, so it can be tested).
import { parseIntField, splitList } from "../providers/mapping";

export interface CategoryDraft {
  name: string;
  subs: string;
  order: string;
}

export function validateCategory(d: CategoryDraft): {
  errors: Partial<Record<keyof CategoryDraft, string>>;
  name: string;
  subs: string[];
  order: number | null;
} {
  const errors: Partial<Record<keyof CategoryDraft, string>> = {};
  const name = d.name.trim();
  if (!name) errors.name = "Name is required.";
  else if (Array.from(name).length > 80) errors.name = "Name must be at most 80 characters.";
  const subs = splitList(d.subs);
  const long = subs.find((s) => Array.from(s).length > 80);
  if (long) errors.subs = `“${long.slice(0, 20)}…” is longer than 80 characters.`;
  const folded = subs.map((s) => s.toLowerCase());
  const dup = folded.find((s, i) => folded.indexOf(s) !== i);
  if (dup) errors.subs = `“${subs[folded.indexOf(dup)]}” is listed twice.`;
  const order = parseIntField(d.order, "Display order", { min: -1_000_000, max: 1_000_000 });
  if (order.error) errors.order = order.error;
  return { errors, name, subs, order: order.value };
}
