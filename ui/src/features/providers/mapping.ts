// Pure logic of the Masters screens: slugs, list fields, and the provider
// mapping as editable rows (and back to the JSON the server stores).
// See docs/MAPPING.md for the format.
import { STATUSES, type NewProvider } from "../../api/types";

type FieldMapping = NonNullable<NewProvider["field_mapping"]>;
type StatusMap = NonNullable<NewProvider["status_map"]>;

/** The call columns a field mapping can fill; any other target is metadata. */
export const MAPPING_TARGETS: readonly string[] = [
  "call_id",
  "mobile_number",
  "caller_name",
  "did",
  "direction",
  "status",
  "agent_id",
  "agent_name",
  "started_at",
  "answered_at",
  "ended_at",
  "duration_seconds",
  "recording_url",
  "event_id",
  "event_at",
];

export const TRANSFORMS: readonly string[] = [
  "trim",
  "lower",
  "upper",
  "digits",
  "e164",
  "e164:91",
  "epoch_s",
  "epoch_ms",
  "iso8601",
  "datetime",
  "seconds_between",
  "uuid_v5",
  "int",
  "string",
];

/** Mirrors the server's `slugify`: `Sales IVR (North)` → `sales-ivr-north`. */
export function slugify(name: string): string {
  let out = "";
  for (const ch of Array.from(name.toLowerCase())) {
    if (/^[a-z0-9]$/.test(ch)) out += ch;
    else if (/^[\p{L}\p{N}]$/u.test(ch))
      continue; // non-ASCII letters are dropped
    else if (out !== "" && !out.endsWith("-")) out += "-";
  }
  out = out.replace(/-+$/, "").slice(0, 48).replace(/-+$/, "");
  return out;
}

/** Null when valid, else what to fix (the server's rule). */
export function slugError(slug: string): string | null {
  if (!slug) return "Slug is required: type a name, or a slug of your own.";
  if (slug === "all") return "`all` is reserved; choose another slug.";
  if (slug.length > 48 || !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug))
    return "Use 1–48 lowercase letters, digits and single inner hyphens.";
  return null;
}

/** What the slug field shows while creating: follows the name until edited by hand. */
export function nextSlug(state: { slug: string; slugEdited: boolean }, name: string): string {
  return state.slugEdited ? state.slug : slugify(name);
}

/** Items of a comma- or line-separated list, trimmed, blanks and repeats dropped. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[,\n]/)) {
    const t = part.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

/** Parses an integer field. Blank gives `null` (the caller decides if that is allowed). */
export function parseIntField(
  text: string,
  what: string,
  { min, max }: { min: number; max: number },
): { value: number | null; error: string | null } {
  const t = text.trim();
  if (t === "") return { value: null, error: null };
  if (!/^-?\d+$/.test(t)) return { value: null, error: `${what} must be a whole number.` };
  const n = Number(t);
  if (n < min || n > max) return { value: null, error: `${what} must be between ${min} and ${max}.` };
  return { value: n, error: null };
}

// ---------------------------------------------------------------- field rows

/** One row of the field-mapping editor. `json` rows keep the spec as raw JSON text. */
export interface FieldRow {
  key: string;
  target: string;
  json: boolean;
  path: string;
  /** Transform names separated by commas, applied in order. */
  transform: string;
  default: string;
  required: boolean;
  /** The spec as JSON text (json rows). */
  raw: string;
}

export interface StatusRow {
  key: string;
  word: string;
  status: string;
}

let seq = 0;
export function rowKey(): string {
  seq += 1;
  return `r${seq}`;
}

export function emptyFieldRow(target = ""): FieldRow {
  return { key: rowKey(), target, json: false, path: "", transform: "", default: "", required: false, raw: "" };
}

export function emptyStatusRow(): StatusRow {
  return { key: rowKey(), word: "", status: "waiting" };
}

// Keys the row inputs show; a spec with others (`to`, typos) is edited as JSON.
const SPEC_KEYS = new Set(["path", "transform", "default", "required"]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A spec as a row; anything the inputs cannot show exactly becomes a JSON row. */
export function specToRow(target: string, spec: unknown): FieldRow {
  const row = emptyFieldRow(target);
  if (typeof spec === "string") return { ...row, path: spec };
  const asJson = { ...row, json: true, raw: JSON.stringify(spec) ?? "null" };
  if (!isRecord(spec)) return asJson;
  if (!Object.keys(spec).every((k) => SPEC_KEYS.has(k))) return asJson;
  const { path, transform, default: dflt, required } = spec;
  if (path !== undefined && typeof path !== "string") return asJson;
  if (dflt !== undefined && typeof dflt !== "string") return asJson;
  if (dflt === "") return asJson;
  if (required !== undefined && typeof required !== "boolean") return asJson;
  let transforms: string[] = [];
  if (typeof transform === "string") transforms = [transform];
  else if (Array.isArray(transform) && transform.every((t) => typeof t === "string"))
    transforms = transform as string[];
  else if (transform !== undefined) return asJson;
  if (transforms.some((t) => t.includes(",") || t.trim() !== t || t === "")) return asJson;
  return {
    ...row,
    path: path ?? "",
    transform: transforms.join(", "),
    default: dflt ?? "",
    required: required ?? false,
  };
}

/** A row as the spec the server expects: a bare path when nothing else is set. */
export function rowToSpec(row: FieldRow): { spec: unknown; error: string | null } {
  if (row.json) {
    if (!row.raw.trim()) return { spec: null, error: 'Type the spec as JSON, e.g. {"path": "data.id"}.' };
    try {
      return { spec: JSON.parse(row.raw), error: null };
    } catch (e) {
      return { spec: null, error: `Not valid JSON: ${(e as Error).message}` };
    }
  }
  const path = row.path.trim();
  const transforms = splitList(row.transform);
  if (!path && row.default === "") return { spec: null, error: "Give a path, or a default value." };
  if (transforms.length === 0 && row.default === "" && !row.required) return { spec: path, error: null };
  const spec: Record<string, unknown> = {};
  if (path) spec.path = path;
  if (transforms.length === 1) spec.transform = transforms[0];
  else if (transforms.length > 1) spec.transform = transforms;
  if (row.default !== "") spec.default = row.default;
  if (row.required) spec.required = true;
  return { spec, error: null };
}

export function mappingToRows(mapping: unknown): FieldRow[] {
  if (!isRecord(mapping)) return [];
  return Object.entries(mapping).map(([target, spec]) => specToRow(target, spec));
}

/** The rows as a field mapping, with an error per row key for what must be fixed. */
export function rowsToMapping(rows: FieldRow[]): { mapping: FieldMapping; errors: Record<string, string> } {
  const mapping: FieldMapping = {};
  const errors: Record<string, string> = {};
  const seen = new Set<string>();
  for (const row of rows) {
    const target = row.target.trim();
    const blank = !target && !row.path.trim() && !row.json && row.default === "" && !row.transform.trim();
    if (blank) continue; // an untouched new row
    if (!target) {
      errors[row.key] = "Choose a target column.";
      continue;
    }
    if (seen.has(target)) {
      errors[row.key] = `\`${target}\` is mapped twice; keep one row.`;
      continue;
    }
    seen.add(target);
    const { spec, error } = rowToSpec(row);
    if (error) errors[row.key] = error;
    else mapping[target] = spec;
  }
  return { mapping, errors };
}

export function statusMapToRows(map: unknown): StatusRow[] {
  if (!isRecord(map)) return [];
  return Object.entries(map).map(([word, status]) => ({
    key: rowKey(),
    word,
    status: typeof status === "string" ? status : JSON.stringify(status),
  }));
}

export function rowsToStatusMap(rows: StatusRow[]): { map: StatusMap; errors: Record<string, string> } {
  const map: StatusMap = {};
  const errors: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (const row of rows) {
    const word = row.word.trim();
    if (!word) continue; // an untouched new row
    if (!(STATUSES as readonly string[]).includes(row.status)) {
      errors[row.key] = `Choose one of: ${STATUSES.join(", ")}.`;
      continue;
    }
    const folded = word.toLowerCase();
    if (seen.has(folded)) {
      errors[row.key] = `\`${word}\` is already mapped (case is ignored).`;
      continue;
    }
    seen.set(folded, row.status);
    map[word] = row.status;
  }
  return { map, errors };
}

/** The whole mapping as one JSON document, as in docs/MAPPING.md's example. */
export function mappingJson(fieldMapping: unknown, statusMap: unknown): string {
  return JSON.stringify({ field_mapping: fieldMapping ?? {}, status_map: statusMap ?? {} }, null, 2);
}

/** Parses the JSON view: `{field_mapping, status_map}` (or a bare field mapping). */
export function parseMappingJson(
  text: string,
): { fieldMapping: FieldMapping; statusMap: StatusMap; error: null } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (!isRecord(v)) return { error: 'Expected a JSON object: {"field_mapping": {…}, "status_map": {…}}.' };
  const wrapped = "field_mapping" in v || "status_map" in v;
  if (!wrapped) return { fieldMapping: v, statusMap: {}, error: null };
  const extra = Object.keys(v).filter((k) => k !== "field_mapping" && k !== "status_map");
  if (extra.length) return { error: `Unexpected key \`${extra[0]}\`: use field_mapping and status_map.` };
  const fm = v.field_mapping ?? {};
  const sm = v.status_map ?? {};
  if (!isRecord(fm)) return { error: "field_mapping must be an object." };
  if (!isRecord(sm)) return { error: "status_map must be an object." };
  return { fieldMapping: fm, statusMap: sm, error: null };
}
