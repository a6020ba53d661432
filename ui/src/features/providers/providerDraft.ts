// The provider form's state, its validation, and the request bodies it sends.
import type { NewProvider, Provider, ProviderPatch, Strategy } from "../../api/types";
import { draftToHours, hoursToDraft, type HoursDraft } from "../../lib/hours";
import { ICONS } from "../../lib/icons";
import {
  emptyFieldRow,
  emptyStatusRow,
  MAPPING_TARGETS,
  mappingJson,
  mappingToRows,
  nextSlug,
  parseIntField,
  parseMappingJson,
  rowsToMapping,
  rowsToStatusMap,
  slugError,
  slugify,
  splitList,
  statusMapToRows,
  type FieldRow,
  type StatusRow,
} from "./mapping";

export type MappingView = "rows" | "json";

export interface ProviderDraft {
  name: string;
  slug: string;
  /** Set once the slug was typed by hand: it then stops following the name. */
  slugEdited: boolean;
  icon: string;
  displayOrder: string;
  sla: string;
  dids: string;
  view: MappingView;
  fields: FieldRow[];
  statuses: StatusRow[];
  json: string;
  hours: HoursDraft;
  strategy: Strategy;
  /** Skills for skills-based routing, separated by commas. */
  routingSkills: string;
  /** A reached caller's missed calls settle themselves. */
  autoResolve: boolean;
}

export const SLA_MAX = 10_080;

/**
 * A new provider starts with Callboard's own field names (`call_id` ← `call_id`, …):
 * a platform that can send them works at once; others edit the paths.
 */
export function emptyDraft(): ProviderDraft {
  return {
    name: "",
    slug: "",
    slugEdited: false,
    icon: "phone",
    displayOrder: "",
    sla: "30",
    dids: "",
    view: "rows",
    fields: MAPPING_TARGETS.map((t) => ({ ...emptyFieldRow(t), path: t })),
    statuses: [emptyStatusRow()],
    json: "",
    hours: hoursToDraft(null),
    strategy: "none",
    routingSkills: "",
    autoResolve: true,
  };
}

export function draftFromProvider(p: Provider): ProviderDraft {
  return {
    name: p.name,
    slug: p.slug,
    slugEdited: true,
    icon: p.icon,
    displayOrder: String(p.display_order),
    sla: String(p.sla_minutes),
    dids: p.did_numbers.join("\n"),
    view: "rows",
    fields: canonicalOrder(mappingToRows(p.field_mapping)),
    statuses: statusMapToRows(p.status_map),
    json: "",
    hours: hoursToDraft(p.business_hours),
    strategy: p.routing?.strategy ?? "none",
    routingSkills: (p.routing?.skills ?? []).join(", "),
    autoResolve: p.auto_resolve ?? true,
  };
}

/** Call columns first, in their usual order, then metadata targets by name (the server sorts keys). */
export function canonicalOrder(rows: FieldRow[]): FieldRow[] {
  const rank = (t: string) => {
    const i = MAPPING_TARGETS.indexOf(t);
    return i < 0 ? MAPPING_TARGETS.length : i;
  };
  return [...rows].sort((a, b) => rank(a.target) - rank(b.target) || a.target.localeCompare(b.target));
}

export interface ResolvedMapping {
  fieldMapping: Record<string, unknown>;
  statusMap: Record<string, unknown>;
  fieldErrors: Record<string, string>;
  statusErrors: Record<string, string>;
  jsonError: string | null;
  ok: boolean;
}

/** The draft's mapping as the server's JSON, or what to fix first. */
export function resolveMapping(d: Pick<ProviderDraft, "view" | "fields" | "statuses" | "json">): ResolvedMapping {
  if (d.view === "json") {
    const parsed = parseMappingJson(d.json);
    if (parsed.error !== null)
      return { fieldMapping: {}, statusMap: {}, fieldErrors: {}, statusErrors: {}, jsonError: parsed.error, ok: false };
    return {
      fieldMapping: parsed.fieldMapping,
      statusMap: parsed.statusMap,
      fieldErrors: {},
      statusErrors: {},
      jsonError: null,
      ok: true,
    };
  }
  const f = rowsToMapping(d.fields);
  const s = rowsToStatusMap(d.statuses);
  return {
    fieldMapping: f.mapping,
    statusMap: s.map,
    fieldErrors: f.errors,
    statusErrors: s.errors,
    jsonError: null,
    ok: Object.keys(f.errors).length === 0 && Object.keys(s.errors).length === 0,
  };
}

/** Switches the mapping editor between rows and JSON, or says why it cannot. */
export function switchView(d: ProviderDraft, view: MappingView): { draft: ProviderDraft; error: string | null } {
  if (view === d.view) return { draft: d, error: null };
  if (view === "json") {
    const r = resolveMapping(d);
    if (!r.ok) return { draft: d, error: "Fix the rows marked in red before switching to JSON." };
    return { draft: { ...d, view, json: mappingJson(r.fieldMapping, r.statusMap) }, error: null };
  }
  const parsed = parseMappingJson(d.json);
  if (parsed.error !== null) return { draft: d, error: parsed.error };
  return {
    draft: {
      ...d,
      view,
      fields: canonicalOrder(mappingToRows(parsed.fieldMapping)),
      statuses: statusMapToRows(parsed.statusMap),
    },
    error: null,
  };
}

export interface DraftErrors {
  name?: string;
  slug?: string;
  icon?: string;
  displayOrder?: string;
  sla?: string;
  dids?: string;
  mapping?: string;
  hours?: string;
  routing?: string;
}

export interface Validated {
  errors: DraftErrors;
  mapping: ResolvedMapping;
  ok: boolean;
  create: NewProvider;
  patch: ProviderPatch;
}

export function validateDraft(d: ProviderDraft, creating: boolean): Validated {
  const errors: DraftErrors = {};
  const name = d.name.trim();
  if (!name) errors.name = "Name is required.";
  else if (Array.from(name).length > 80) errors.name = "Name must be at most 80 characters.";
  // A cleared slug means "from the name", as the server does.
  const slug = d.slug.trim() || slugify(name);
  if (creating) {
    const e = slugError(slug);
    if (e) errors.slug = e;
  }
  if (!Object.hasOwn(ICONS, d.icon)) errors.icon = "Choose an icon.";
  const order = parseIntField(d.displayOrder, "Display order", { min: -1_000_000, max: 1_000_000 });
  if (order.error) errors.displayOrder = order.error;
  else if (!creating && order.value === null) errors.displayOrder = "Display order is required.";
  const sla = parseIntField(d.sla, "SLA minutes", { min: 1, max: SLA_MAX });
  if (sla.error) errors.sla = `SLA minutes must be a positive whole number (1 to ${SLA_MAX}, one week).`;
  else if (sla.value === null) errors.sla = "SLA minutes is required: the time allowed to call a missed caller back.";
  const dids = splitList(d.dids);
  const badDid = dids.find((n) => !/^\+?[\d\s().-]{3,32}$/.test(n));
  if (badDid) errors.dids = `\`${badDid}\` does not look like a phone number.`;
  const mapping = resolveMapping(d);
  if (!mapping.ok) errors.mapping = mapping.jsonError ?? "Fix the mapping rows marked in red.";
  const hours = draftToHours(d.hours);
  const hourErrors = Object.values(hours.errors);
  if (hourErrors.length > 0) errors.hours = hourErrors.join(" ");
  const skills = d.routingSkills
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (d.strategy === "skills" && skills.length === 0) errors.routing = "Skills-based routing needs at least one skill.";

  const common = {
    name,
    icon: d.icon,
    did_numbers: dids,
    field_mapping: mapping.fieldMapping,
    status_map: mapping.statusMap,
    sla_minutes: sla.value ?? undefined,
    business_hours: hours.value,
    routing: { strategy: d.strategy, skills },
    auto_resolve: d.autoResolve,
  };
  return {
    errors,
    mapping,
    ok: Object.keys(errors).length === 0,
    create: { ...common, slug, display_order: order.value ?? undefined },
    patch: { ...common, display_order: order.value ?? undefined },
  };
}

/** The name was typed: while creating, the slug follows it until edited by hand. */
export function withName(d: ProviderDraft, name: string, creating: boolean): ProviderDraft {
  return { ...d, name, slug: creating ? nextSlug(d, name) : d.slug };
}

/** The slug was typed by hand; clearing it makes it follow the name again. */
export function withSlug(d: ProviderDraft, slug: string): ProviderDraft {
  const typed = slug.trim();
  return typed ? { ...d, slug, slugEdited: true } : { ...d, slug: "", slugEdited: false };
}
