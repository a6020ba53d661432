// The figures' definitions, read from the glossary table of docs/METRICS.md
// (the one place each is defined): the dashboard's and the analytics' tiles
// show them as tooltips, so a name means the same thing everywhere.
import doc from "../../../docs/METRICS.md?raw";

/** API field name → its definition, as plain text. */
export function parseGlossary(md: string): Record<string, string> {
  const out: Record<string, string> = {};
  const start = md.indexOf("## Glossary");
  if (start < 0) return out;
  const end = md.indexOf("\n## ", start + 1);
  const section = md.slice(start, end < 0 ? undefined : end);
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    // | name | where | definition |  →  ["", name, where, definition, ""]
    if (cells.length < 5 || cells[1] === "name" || /^-+$/.test(cells[1] ?? "")) continue;
    const [, name = "", where = "", ...rest] = cells;
    const definition = `${name}: ${rest.slice(0, -1).join(" | ")}`.replace(/\*\*|`/g, "");
    for (const m of where.matchAll(/`([a-z_]+)`/g)) if (m[1]) out[m[1]] = definition;
  }
  return out;
}

const GLOSSARY = parseGlossary(doc);

/** The definition of an API field (`offered`, `abandon_rate`, …), if the glossary has one. */
export function define(field: string): string | undefined {
  return GLOSSARY[field];
}
