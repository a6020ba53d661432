// An IVR flow as the editor sees it: the node types with their typed fields
// (the contract of issue 14), the edges each node's fields draw, and the pure
// operations the editor performs on a flow (connect, disconnect, add, delete,
// rename). The graph never holds state of its own: edges are derived from the
// node fields, so a flow saved and loaded again draws the same graph.

export const NODE_TYPES = [
  "welcome",
  "play",
  "menu",
  "gather",
  "decision",
  "queue",
  "transfer",
  "record",
  "api",
  "sms",
  "callback",
  "hangup",
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** One node of a flow: `id`, `type` and the type's fields, as the API holds them. */
export interface FlowNode {
  id: string;
  type: NodeType | string;
  [field: string]: unknown;
}

export interface Point {
  x: number;
  y: number;
}

/** What the editor edits: the flow's document (what PUT /api/flows/{id} takes). */
export interface FlowDoc {
  name: string;
  entry: string;
  nodes: FlowNode[];
  /** Where each node sits on the canvas; nodes without a place are laid out. */
  layout: Record<string, Point>;
}

/** What a decision rule tests (`field` `op` `value`, for a department). */
export interface Condition {
  field: string;
  op: string;
  value?: unknown;
  department?: string;
  [k: string]: unknown;
}

export interface Rule {
  if: Condition;
  next: string;
}

/** What a rule may test; `var.<name>` tests a variable. */
export const CONDITION_FIELDS: readonly [string, string][] = [
  ["business_hours", "Business hours (open)"],
  ["agents_available", "Agents available"],
  ["caller", "Caller number"],
  ["did", "DID dialled"],
  ["time", "Time of day (HH:MM)"],
  ["weekday", "Weekday (mon…sun)"],
  ["var", "A variable…"],
];
export const CONDITION_OPS: readonly [string, string][] = [
  ["is_true", "is true"],
  ["is_false", "is false"],
  ["eq", "="],
  ["ne", "≠"],
  ["gt", ">"],
  ["gte", "≥"],
  ["lt", "<"],
  ["lte", "≤"],
  ["starts_with", "starts with"],
  ["ends_with", "ends with"],
  ["contains", "contains"],
  ["in", "is one of"],
  ["exists", "is set"],
];
/** Operators that take no value. */
export const UNARY_OPS = new Set(["is_true", "is_false", "exists"]);
/** Condition fields that concern a department. */
export const DEPARTMENT_FIELDS = new Set(["business_hours", "agents_available", "time"]);

/** A typed field of a node type, as the properties panel shows it. */
export type FieldSpec =
  | {
      kind: "text";
      key: string;
      label: string;
      hint?: string;
      placeholder?: string;
      multiline?: boolean;
      /** Kept as "" when emptied (the server requires it). */
      required?: boolean;
    }
  | { kind: "number"; key: string; label: string; hint?: string; min?: number; max?: number }
  | { kind: "select"; key: string; label: string; hint?: string; choices: readonly [string, string][] }
  | { kind: "bool"; key: string; label: string; hint?: string }
  | { kind: "target"; key: string; label: string; hint?: string }
  | { kind: "department"; key: string; label: string; hint?: string; required?: boolean }
  | { kind: "options"; key: "options"; label: string }
  | { kind: "rules"; key: "rules"; label: string }
  | { kind: "map"; key: string; label: string; keyLabel: string; valueLabel: string; hint?: string };

const SAY = (label = "Prompt (text to speech)"): FieldSpec => ({
  kind: "text",
  key: "say",
  label,
  multiline: true,
  hint: "{{caller}}, {{did}} and variables are filled in.",
});
const AUDIO: FieldSpec = { kind: "text", key: "audio_url", label: "Audio URL", placeholder: "https://…/greeting.mp3" };
const VOICE: FieldSpec = { kind: "text", key: "voice", label: "Voice", placeholder: "female" };
const LANGUAGE: FieldSpec = { kind: "text", key: "language", label: "Language", placeholder: "en-IN" };
const PROMPT = (label?: string): FieldSpec[] => [SAY(label), AUDIO, VOICE, LANGUAGE];
const NEXT: FieldSpec = { kind: "target", key: "next", label: "Next" };
const TIMEOUT: FieldSpec = { kind: "number", key: "timeout_seconds", label: "Timeout (seconds)", min: 1, max: 60 };
const RETRIES: FieldSpec = {
  kind: "number",
  key: "retries",
  label: "Retries",
  min: 0,
  max: 10,
  hint: "Plays the prompt again after an invalid key or silence.",
};

export interface NodeTypeInfo {
  label: string;
  glyph: string;
  blurb: string;
  fields: FieldSpec[];
}

export const NODE_INFO: Record<NodeType, NodeTypeInfo> = {
  welcome: {
    label: "Welcome",
    glyph: "👋",
    blurb: "The greeting that starts the flow.",
    fields: [...PROMPT("Greeting (text to speech)"), NEXT],
  },
  play: {
    label: "Play",
    glyph: "🔊",
    blurb: "Say a text or play an audio file.",
    fields: [...PROMPT(), NEXT],
  },
  menu: {
    label: "Menu",
    glyph: "🔢",
    blurb: "Press 1 for …: a digit leads to a node.",
    fields: [
      ...PROMPT(),
      { kind: "options", key: "options", label: "Options (digit → node)" },
      TIMEOUT,
      RETRIES,
      { kind: "target", key: "on_invalid", label: "On invalid digit" },
      { kind: "target", key: "on_timeout", label: "On timeout" },
    ],
  },
  gather: {
    label: "Gather",
    glyph: "⌨",
    blurb: "Collect digits into a variable.",
    fields: [
      ...PROMPT(),
      { kind: "number", key: "min_digits", label: "Minimum digits", min: 1, max: 32 },
      { kind: "number", key: "max_digits", label: "Maximum digits", min: 1, max: 32 },
      { kind: "text", key: "finish_on_key", label: "Finish key", placeholder: "#" },
      TIMEOUT,
      RETRIES,
      { kind: "text", key: "variable", label: "Store in variable", placeholder: "account", required: true },
      NEXT,
      { kind: "target", key: "on_timeout", label: "On timeout" },
    ],
  },
  decision: {
    label: "Decision",
    glyph: "🔀",
    blurb: "Branch on variables, caller, DID, time, business hours, agents.",
    fields: [
      { kind: "rules", key: "rules", label: "Rules (the first that holds wins)" },
      { kind: "target", key: "else", label: "Otherwise" },
    ],
  },
  queue: {
    label: "Queue",
    glyph: "⏳",
    blurb: "Offer the call to the department's available agents.",
    fields: [
      { kind: "department", key: "department", label: "Department", required: true },
      ...PROMPT(),
      {
        kind: "text",
        key: "hold_music_url",
        label: "Hold music URL",
        placeholder: "https://…/hold.mp3",
        hint: "Plays while the agents ring on Vonage and Plivo, and on Twilio when the department's click-to-call dialer is Twilio (the caller waits in a queue); KooKoo plays its own music instead; Exotel rings.",
      },
      { kind: "bool", key: "announce_position", label: "Announce position in line and estimated wait" },
      {
        kind: "number",
        key: "announce_every_seconds",
        label: "Repeat the announcement every (seconds)",
        min: 15,
        max: 600,
        hint: "Empty: once, on entry. Otherwise the agents ring in slices this long, each followed by the caller's updated place (or the prompt again).",
      },
      { kind: "number", key: "max_wait_seconds", label: "Maximum wait (seconds)", min: 1, max: 3600 },
      { kind: "target", key: "on_timeout", label: "On timeout" },
    ],
  },
  transfer: {
    label: "Transfer",
    glyph: "📞",
    blurb: "Connect to an agent of a department (its routing), or to a number.",
    fields: [
      { kind: "department", key: "department", label: "Department", hint: "Or a fixed number below." },
      { kind: "text", key: "number", label: "Fixed number", placeholder: "+91…" },
      ...PROMPT(),
      { kind: "number", key: "timeout_seconds", label: "Ring for (seconds)", min: 5, max: 120 },
      { kind: "target", key: "on_no_answer", label: "On no answer" },
    ],
  },
  record: {
    label: "Voicemail",
    glyph: "🎙",
    blurb: "Record a message; it lands on the call.",
    fields: [
      ...PROMPT(),
      { kind: "number", key: "max_seconds", label: "Maximum length (seconds)", min: 5, max: 600 },
      { kind: "text", key: "finish_on_key", label: "Finish key", placeholder: "#" },
      NEXT,
    ],
  },
  api: {
    label: "API request",
    glyph: "🌐",
    blurb: "Call an HTTP API; map its answer into variables.",
    fields: [
      {
        kind: "select",
        key: "method",
        label: "Method",
        choices: [
          ["GET", "GET"],
          ["POST", "POST"],
          ["PUT", "PUT"],
        ],
      },
      {
        kind: "text",
        key: "url",
        label: "URL",
        placeholder: "https://crm.example.com/lookup?phone={{caller}}",
        hint: "{{caller}}, {{did}} and variables are filled in.",
        required: true,
      },
      { kind: "map", key: "headers", label: "Headers", keyLabel: "Header", valueLabel: "Value" },
      { kind: "text", key: "body", label: "Body", multiline: true },
      { kind: "number", key: "timeout_ms", label: "Timeout (ms)", min: 100, max: 3000, hint: "At most 3000 ms." },
      {
        kind: "map",
        key: "assign",
        label: "Response → variables",
        keyLabel: "Variable",
        valueLabel: "Path in the response",
      },
      NEXT,
      { kind: "target", key: "on_error", label: "On error" },
    ],
  },
  sms: {
    label: "SMS",
    glyph: "✉",
    blurb: "Send a templated SMS to the caller.",
    fields: [
      {
        kind: "text",
        key: "text",
        label: "Message",
        multiline: true,
        placeholder: "Sorry we missed you…",
        required: true,
      },
      { kind: "text", key: "to", label: "To", placeholder: "{{caller}}", hint: "Empty: the caller." },
      NEXT,
    ],
  },
  callback: {
    label: "Callback",
    glyph: "↩",
    blurb: "Offer a callback: the caller lands in the hangup worklist.",
    fields: [...PROMPT(), NEXT],
  },
  hangup: {
    label: "Hang up",
    glyph: "⏹",
    blurb: "End the call, with an optional goodbye.",
    fields: PROMPT("Goodbye (optional)"),
  },
};

export function isNodeType(t: string): t is NodeType {
  return (NODE_TYPES as readonly string[]).includes(t);
}

export function infoOf(type: string): NodeTypeInfo {
  return isNodeType(type)
    ? NODE_INFO[type]
    : { label: type, glyph: "?", blurb: "A node type this console does not know.", fields: [] };
}

/** The fields new nodes start with, so a new node is nearly valid. */
export function defaults(type: NodeType): Record<string, unknown> {
  switch (type) {
    case "welcome":
      return { say: "Welcome." };
    case "play":
      return { say: "" };
    case "menu":
      return { say: "", options: {}, timeout_seconds: 5, retries: 2 };
    case "gather":
      return { say: "", min_digits: 1, max_digits: 10, finish_on_key: "#", variable: "digits" };
    case "decision":
      return { rules: [] };
    case "queue":
      return { department: "", max_wait_seconds: 120 };
    case "transfer":
      return {};
    case "record":
      return { say: "Please leave a message after the tone.", max_seconds: 60 };
    case "api":
      return { method: "GET", url: "", timeout_ms: 2000 };
    case "sms":
      return { text: "" };
    case "callback":
      return { say: "We will call you back on this number." };
    case "hangup":
      return { say: "Goodbye." };
  }
}

/** One way out of a node: a field (or option, or rule) naming the next node. */
export interface Output {
  /** The handle id on the graph: `next`, `on_timeout`, `options.1`, `rules[0]`, `else`… */
  handle: string;
  label: string;
  target: string | null;
  /** An error edge (invalid, timeout, no answer, error): drawn dashed. */
  fallback: boolean;
}

export const ADD_OPTION = "options.+";
export const ADD_RULE = "rules[+]";

const FALLBACK_KEYS = new Set(["on_invalid", "on_timeout", "on_no_answer", "on_error", "else"]);

const TARGET_LABELS: Record<string, string> = {
  next: "next",
  on_invalid: "invalid",
  on_timeout: "timeout",
  on_no_answer: "no answer",
  on_error: "error",
  else: "else",
};

/** `obj` without `key` (a copy). */
export function without<T extends Record<string, unknown>>(obj: T, key: string): T {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key)) as T;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

export function optionsOf(node: FlowNode): Record<string, string> {
  const o = node.options;
  if (!o || typeof o !== "object" || Array.isArray(o)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) out[k] = typeof v === "string" ? v : "";
  return out;
}

export function rulesOf(node: FlowNode): Rule[] {
  if (!Array.isArray(node.rules)) return [];
  return node.rules.map((r) => {
    const o = (r && typeof r === "object" ? r : {}) as Record<string, unknown>;
    const c = (o.if && typeof o.if === "object" ? o.if : {}) as Record<string, unknown>;
    const cond: Condition = {
      ...c,
      field: typeof c.field === "string" ? c.field : "",
      op: typeof c.op === "string" ? c.op : "",
    };
    return { ...o, if: cond, next: str(o.next) ?? "" };
  });
}

export function newCondition(): Condition {
  return { field: "business_hours", op: "is_true" };
}

/** A rule's condition in a few words: `business_hours is true`, `caller starts with +91`. */
export function conditionText(c: Condition): string {
  const op = CONDITION_OPS.find(([v]) => v === c.op)?.[1] ?? c.op;
  const value =
    UNARY_OPS.has(c.op) || c.value === undefined
      ? ""
      : ` ${typeof c.value === "string" ? c.value : JSON.stringify(c.value)}`;
  return `${c.field || "?"} ${op}${value}`;
}

/** The order digits appear in on a keypad. */
const DIGIT_ORDER = "1234567890*#";
export function sortDigits(a: string, b: string): number {
  return DIGIT_ORDER.indexOf(a) - DIGIT_ORDER.indexOf(b) || a.localeCompare(b);
}

/** Every way out of `node`, in the order drawn. */
export function outputsOf(node: FlowNode): Output[] {
  const out: Output[] = [];
  for (const f of infoOf(node.type).fields) {
    if (f.kind === "target") {
      out.push({
        handle: f.key,
        label: TARGET_LABELS[f.key] ?? f.key,
        target: str(node[f.key]),
        fallback: FALLBACK_KEYS.has(f.key),
      });
    } else if (f.kind === "options") {
      const opts = optionsOf(node);
      for (const d of Object.keys(opts).sort(sortDigits))
        out.push({ handle: `options.${d}`, label: d, target: str(opts[d]), fallback: false });
    } else if (f.kind === "rules") {
      rulesOf(node).forEach((r, i) =>
        out.push({
          handle: `rules[${i}]`,
          label: r.if.field ? shorten(conditionText(r.if), 22) : `rule ${i + 1}`,
          target: str(r.next),
          fallback: false,
        }),
      );
    }
  }
  return out;
}

function shorten(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** Whether `handle` of this node may start a connection (including "add an option/rule"). */
export function hasAddHandle(node: FlowNode): string | null {
  if (node.type === "menu") return ADD_OPTION;
  if (node.type === "decision") return ADD_RULE;
  return null;
}

export interface FlowEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  label: string;
  fallback: boolean;
}

/** The edges the node fields draw; a field naming a node that does not exist draws nothing. */
export function edgesOf(doc: Pick<FlowDoc, "nodes">): FlowEdge[] {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const edges: FlowEdge[] = [];
  for (const n of doc.nodes) {
    for (const o of outputsOf(n)) {
      if (!o.target || !ids.has(o.target)) continue;
      edges.push({
        id: `${n.id}:${o.handle}`,
        source: n.id,
        sourceHandle: o.handle,
        target: o.target,
        label: o.label,
        fallback: o.fallback,
      });
    }
  }
  return edges;
}

function mapNode(doc: FlowDoc, id: string, fn: (n: FlowNode) => FlowNode): FlowDoc {
  return { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? fn(n) : n)) };
}

/** The lowest keypad digit a menu does not use yet. */
export function freeDigit(node: FlowNode): string | null {
  const used = optionsOf(node);
  for (const d of DIGIT_ORDER) if (!(d in used)) return d;
  return null;
}

/**
 * Points `handle` of node `source` at `target` (null: disconnects). Connecting
 * the "add" handle of a menu or decision adds an option or a rule.
 */
export function connect(doc: FlowDoc, source: string, handle: string, target: string | null): FlowDoc {
  return mapNode(doc, source, (n) => {
    if (handle === ADD_OPTION) {
      const d = freeDigit(n);
      if (!d || target === null) return n;
      return { ...n, options: { ...optionsOf(n), [d]: target } };
    }
    if (handle === ADD_RULE) {
      if (target === null) return n;
      return { ...n, rules: [...rulesOf(n), { if: newCondition(), next: target }] };
    }
    if (handle.startsWith("options.")) {
      const digit = handle.slice("options.".length);
      const opts = optionsOf(n);
      return { ...n, options: target === null ? without(opts, digit) : { ...opts, [digit]: target } };
    }
    const rule = /^rules\[(\d+)\]$/.exec(handle);
    if (rule) {
      const i = Number(rule[1]);
      const rules = rulesOf(n);
      const r = rules[i];
      if (!r) return n;
      rules[i] = { ...r, next: target ?? "" };
      return { ...n, rules };
    }
    return target === null ? without(n, handle) : { ...n, [handle]: target };
  });
}

/** Replace every reference to node `from` by `to` (null: remove the reference). */
function retarget(n: FlowNode, from: string, to: string | null): FlowNode {
  let next: FlowNode = n;
  for (const f of infoOf(n.type).fields) {
    if (f.kind === "target" && next[f.key] === from) {
      next = to === null ? without(next, f.key) : { ...next, [f.key]: to };
    } else if (f.kind === "options") {
      const opts = optionsOf(n);
      if (!Object.values(opts).includes(from)) continue;
      const kept = Object.entries(opts)
        .filter(([, t]) => to !== null || t !== from)
        .map(([d, t]) => [d, t === from ? to : t]);
      next = { ...next, options: Object.fromEntries(kept) };
    } else if (f.kind === "rules") {
      const rules = rulesOf(n);
      if (rules.some((r) => r.next === from))
        next = { ...next, rules: rules.map((r) => (r.next === from ? { ...r, next: to ?? "" } : r)) };
    }
  }
  return next;
}

export function uniqueId(doc: Pick<FlowDoc, "nodes">, base: string): string {
  const ids = new Set(doc.nodes.map((n) => n.id));
  if (!ids.has(base)) return base;
  for (let i = 2; ; i++) if (!ids.has(`${base}_${i}`)) return `${base}_${i}`;
}

/** A new node of `type` at `at`; the first node of an empty flow becomes its entry. */
export function addNode(doc: FlowDoc, type: NodeType, at: Point): { doc: FlowDoc; id: string } {
  const id = uniqueId(doc, type);
  const node: FlowNode = { id, type, ...defaults(type) };
  return {
    id,
    doc: {
      ...doc,
      entry: doc.entry || id,
      nodes: [...doc.nodes, node],
      layout: { ...doc.layout, [id]: at },
    },
  };
}

/** Removes a node and every edge into it; the entry moves to the first node left. */
export function deleteNode(doc: FlowDoc, id: string): FlowDoc {
  const nodes = doc.nodes.filter((n) => n.id !== id).map((n) => retarget(n, id, null));
  const layout = without(doc.layout, id);
  return { ...doc, nodes, layout, entry: doc.entry === id ? (nodes[0]?.id ?? "") : doc.entry };
}

export const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Renames a node and every reference to it. Refuses an invalid or taken id. */
export function renameNode(doc: FlowDoc, from: string, to: string): FlowDoc | string {
  if (from === to) return doc;
  if (!ID_PATTERN.test(to)) return "Use a letter, then letters, digits, _ or - (at most 64).";
  if (doc.nodes.some((n) => n.id === to)) return `There is already a node “${to}”.`;
  const nodes = doc.nodes.map((n) => retarget(n.id === from ? { ...n, id: to } : n, from, to));
  const at = doc.layout[from];
  const layout = at ? { ...without(doc.layout, from), [to]: at } : doc.layout;
  return { ...doc, nodes, layout, entry: doc.entry === from ? to : doc.entry };
}

/** Sets (or with undefined, removes) a plain field. */
export function setField(doc: FlowDoc, id: string, key: string, value: unknown): FlowDoc {
  return mapNode(doc, id, (n) => (value === undefined ? without(n, key) : { ...n, [key]: value }));
}

export const COLUMN = 280;
export const ROW = 170;

/**
 * Places the nodes the layout does not place: by depth from the entry
 * (breadth first), one column per depth; nodes not reachable go to a last column.
 */
export function autoLayout(doc: FlowDoc): Record<string, Point> {
  const out: Record<string, Point> = { ...doc.layout };
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const depth = new Map<string, number>();
  const queue: string[] = [];
  if (byId.has(doc.entry)) {
    depth.set(doc.entry, 0);
    queue.push(doc.entry);
  }
  while (queue.length) {
    const id = queue.shift() as string;
    const node = byId.get(id);
    if (!node) continue;
    for (const o of outputsOf(node)) {
      if (o.target && byId.has(o.target) && !depth.has(o.target)) {
        depth.set(o.target, (depth.get(id) ?? 0) + 1);
        queue.push(o.target);
      }
    }
  }
  const maxDepth = Math.max(-1, ...depth.values());
  const rows = new Map<number, number>();
  for (const n of doc.nodes) {
    if (out[n.id]) continue;
    const d = depth.get(n.id) ?? maxDepth + 1;
    const r = rows.get(d) ?? 0;
    rows.set(d, r + 1);
    out[n.id] = { x: r * COLUMN, y: d * ROW };
  }
  return out;
}

/** A flow as the API returns it (fields this console does not know are kept). */
export interface FlowLike {
  name?: unknown;
  entry?: unknown;
  nodes?: unknown;
}

function pointOf(p: unknown): Point | null {
  const q = p as { x?: unknown; y?: unknown } | null;
  return q && typeof q.x === "number" && typeof q.y === "number" ? { x: q.x, y: q.y } : null;
}

/**
 * The editor's document from the API's flow: each node's `position` moves
 * into the layout (so dragging never touches the nodes); nodes without one
 * are laid out.
 */
export function docFromFlow(flow: FlowLike): FlowDoc {
  const layout: Record<string, Point> = {};
  const nodes: FlowNode[] = Array.isArray(flow.nodes)
    ? flow.nodes
        .filter((n): n is Record<string, unknown> => !!n && typeof n === "object")
        .map((n) => {
          const node: FlowNode = { ...without(n, "position"), id: String(n.id ?? ""), type: String(n.type ?? "") };
          const p = pointOf(n.position);
          if (p) layout[node.id] = p;
          return node;
        })
    : [];
  const doc: FlowDoc = {
    name: typeof flow.name === "string" ? flow.name : "",
    entry: typeof flow.entry === "string" ? flow.entry : (nodes[0]?.id ?? ""),
    nodes,
    layout,
  };
  return { ...doc, layout: autoLayout(doc) };
}

/** What PUT /api/flows/{id} takes: `{name, entry, nodes}`, each node with its rounded `position`. */
export function flowBody(doc: FlowDoc): { name: string; entry: string; nodes: FlowNode[] } {
  return {
    name: doc.name,
    entry: doc.entry,
    nodes: doc.nodes.map((n) => {
      const p = doc.layout[n.id];
      return p ? { ...n, position: { x: Math.round(p.x), y: Math.round(p.y) } } : n;
    }),
  };
}

/** A one-line summary of a node for the graph. */
export function summary(node: FlowNode): string {
  const t = (k: string) => (typeof node[k] === "string" ? (node[k] as string) : "");
  switch (node.type) {
    case "queue":
    case "transfer":
      return t("department") ? `→ ${t("department")}` : t("number") ? `→ ${t("number")}` : "";
    case "api":
      return `${t("method") || "GET"} ${t("url")}`;
    case "sms":
      return t("text");
    case "gather":
      return t("variable") ? `→ {{${t("variable")}}} ${t("say")}` : t("say");
    case "decision":
      return `${rulesOf(node).length} rule(s)`;
    default:
      return t("say") || t("audio_url");
  }
}

/** A validation problem (the shape of `POST /api/flows/{id}/validate`). */
export interface ValidationLike {
  node?: string | null;
  code: string;
  message: string;
}

/** A free spot for a new node: below `near` (or at the origin), moved right until nothing is there. */
export function freeSpot(doc: FlowDoc, near: Point | null): Point {
  const base = near ? { x: near.x, y: near.y + ROW } : { x: 0, y: 0 };
  const taken = Object.values(doc.layout);
  const p = { ...base };
  for (let i = 0; i < 50; i++) {
    if (!taken.some((q) => Math.abs(q.x - p.x) < COLUMN * 0.8 && Math.abs(q.y - p.y) < ROW * 0.6)) return p;
    p.x += COLUMN;
  }
  return p;
}
