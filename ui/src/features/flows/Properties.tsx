// The properties panel: the selected node's typed fields (per node type), its
// id, whether the flow starts here, and the problems the validator found.
import { useState } from "react";
import { Field } from "../../components/Field";
import {
  CONDITION_FIELDS,
  CONDITION_OPS,
  DEPARTMENT_FIELDS,
  UNARY_OPS,
  newCondition,
  without,
  connect,
  freeDigit,
  infoOf,
  optionsOf,
  renameNode,
  rulesOf,
  setField,
  sortDigits,
  type Condition,
  type FieldSpec,
  type Rule,
  type FlowDoc,
  type FlowNode,
} from "./model";

export type Edit = (next: FlowDoc, group?: string | null) => void;

const DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"];

export function Properties({
  doc,
  node,
  errors,
  departments,
  readOnly,
  onEdit,
  onSelect,
  onDelete,
}: {
  doc: FlowDoc;
  node: FlowNode;
  errors: string[];
  departments: string[];
  readOnly: boolean;
  onEdit: Edit;
  onSelect: (id: string) => void;
  onDelete: () => void;
}) {
  const info = infoOf(node.type);
  return (
    <section className="ivr-props stack" aria-label={`Properties of ${node.id}`} data-testid="properties">
      <header className="row">
        <span aria-hidden="true">{info.glyph}</span>
        <h2 className="grow">{info.label}</h2>
        {!readOnly && (
          <button type="button" className="danger" onClick={onDelete} aria-label={`Delete node ${node.id}`}>
            Delete
          </button>
        )}
      </header>
      <p className="muted small">{info.blurb}</p>
      {errors.length > 0 && (
        <ul className="banner error ivr-node-errors" role="alert" aria-label="Problems with this node">
          {errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
      <fieldset disabled={readOnly} className="stack ivr-fields">
        <IdField key={node.id} doc={doc} node={node} onEdit={onEdit} onRenamed={onSelect} />
        <label className="check">
          <input
            type="checkbox"
            checked={doc.entry === node.id}
            onChange={(e) => e.target.checked && onEdit({ ...doc, entry: node.id })}
          />
          The flow starts here
        </label>
        <Field label="Label" hint="Shown on the graph; does not change how calls run.">
          {(p) => (
            <input
              {...p}
              value={typeof node.label === "string" ? node.label : ""}
              maxLength={80}
              onChange={(e) => onEdit(setField(doc, node.id, "label", e.target.value || undefined), `${node.id}.label`)}
            />
          )}
        </Field>
        {info.fields.map((f) => (
          <FieldEditor
            key={`${node.id}.${f.key}`}
            spec={f}
            doc={doc}
            node={node}
            departments={departments}
            onEdit={onEdit}
          />
        ))}
      </fieldset>
    </section>
  );
}

function IdField({
  doc,
  node,
  onEdit,
  onRenamed,
}: {
  doc: FlowDoc;
  node: FlowNode;
  onEdit: Edit;
  onRenamed: (id: string) => void;
}) {
  const [value, setValue] = useState(node.id);
  const [error, setError] = useState<string | null>(null);
  const commit = () => {
    const next = renameNode(doc, node.id, value.trim());
    if (typeof next === "string") {
      setError(next);
      return;
    }
    setError(null);
    if (next !== doc) {
      onEdit(next);
      onRenamed(value.trim());
    }
  };
  return (
    <Field label="Node id" error={error} hint="Other nodes refer to it; renaming updates them.">
      {(p) => (
        <input
          {...p}
          className="mono"
          value={value}
          spellCheck={false}
          onChange={(e) => setValue(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              commit();
            }
          }}
        />
      )}
    </Field>
  );
}

function TargetSelect({
  doc,
  value,
  onChange,
  ...rest
}: {
  doc: FlowDoc;
  value: string;
  onChange: (v: string | null) => void;
  id?: string;
  "aria-label"?: string;
  "aria-describedby"?: string;
}) {
  const known = doc.nodes.some((n) => n.id === value);
  return (
    <select {...rest} value={value} onChange={(e) => onChange(e.target.value || null)}>
      <option value="">— none —</option>
      {value && !known && <option value={value}>{value} (missing)</option>}
      {doc.nodes.map((n) => (
        <option key={n.id} value={n.id}>
          {n.id} · {infoOf(n.type).label}
        </option>
      ))}
    </select>
  );
}

function FieldEditor({
  spec,
  doc,
  node,
  departments,
  onEdit,
}: {
  spec: FieldSpec;
  doc: FlowDoc;
  node: FlowNode;
  departments: string[];
  onEdit: Edit;
}) {
  const group = `${node.id}.${spec.key}`;
  const raw = node[spec.key];
  const set = (v: unknown, g: string | null = group) => onEdit(setField(doc, node.id, spec.key, v), g);
  switch (spec.kind) {
    case "text": {
      const v = typeof raw === "string" ? raw : "";
      return (
        <Field label={spec.label} hint={spec.hint}>
          {(p) =>
            spec.multiline ? (
              <textarea
                {...p}
                rows={2}
                value={v}
                placeholder={spec.placeholder}
                onChange={(e) => set(e.target.value === "" && !spec.required ? undefined : e.target.value)}
              />
            ) : (
              <input
                {...p}
                value={v}
                placeholder={spec.placeholder}
                spellCheck={false}
                onChange={(e) => set(e.target.value === "" && !spec.required ? undefined : e.target.value)}
              />
            )
          }
        </Field>
      );
    }
    case "number": {
      const v = typeof raw === "number" ? String(raw) : "";
      return (
        <Field label={spec.label} hint={spec.hint}>
          {(p) => (
            <input
              {...p}
              type="number"
              inputMode="numeric"
              min={spec.min}
              max={spec.max}
              value={v}
              onChange={(e) => {
                const t = e.target.value.trim();
                const n = Number(t);
                set(t === "" || !Number.isFinite(n) ? undefined : n);
              }}
            />
          )}
        </Field>
      );
    }
    case "select":
      return (
        <Field label={spec.label} hint={spec.hint}>
          {(p) => (
            <select
              {...p}
              value={typeof raw === "string" ? raw : ""}
              onChange={(e) => set(e.target.value || undefined, null)}
            >
              {spec.choices.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
      );
    case "bool":
      return (
        <label className="check">
          <input type="checkbox" checked={raw === true} onChange={(e) => set(e.target.checked || undefined, null)} />
          {spec.label}
        </label>
      );
    case "department": {
      const v = typeof raw === "string" ? raw : "";
      return (
        <Field label={spec.label} hint={spec.hint}>
          {(p) => (
            <select {...p} value={v} onChange={(e) => set(e.target.value || (spec.required ? "" : undefined), null)}>
              <option value="">— none —</option>
              {v && !departments.includes(v) && <option value={v}>{v} (unknown)</option>}
              {departments.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          )}
        </Field>
      );
    }
    case "target":
      return (
        <Field label={spec.label} hint={spec.hint}>
          {(p) => (
            <TargetSelect
              {...p}
              doc={doc}
              value={typeof raw === "string" ? raw : ""}
              onChange={(t) => onEdit(connect(doc, node.id, spec.key, t))}
            />
          )}
        </Field>
      );
    case "options":
      return <OptionsEditor doc={doc} node={node} label={spec.label} onEdit={onEdit} />;
    case "rules":
      return <RulesEditor doc={doc} node={node} label={spec.label} departments={departments} onEdit={onEdit} />;
    case "map":
      return (
        <MapEditor
          label={spec.label}
          keyLabel={spec.keyLabel}
          valueLabel={spec.valueLabel}
          value={raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {}}
          onChange={(m, g) => set(Object.keys(m).length ? m : undefined, g === null ? null : `${group}.${g}`)}
        />
      );
  }
}

function OptionsEditor({ doc, node, label, onEdit }: { doc: FlowDoc; node: FlowNode; label: string; onEdit: Edit }) {
  const opts = optionsOf(node);
  const digits = Object.keys(opts).sort(sortDigits);
  const free = freeDigit(node);
  const setDigit = (from: string, to: string) => {
    if (from === to || to in opts) return;
    const next: Record<string, string> = {};
    for (const d of digits) next[d === from ? to : d] = opts[d] ?? "";
    onEdit(setField(doc, node.id, "options", next));
  };
  return (
    <fieldset className="ivr-rows">
      <legend>{label}</legend>
      {digits.length === 0 && <p className="muted small">No options yet.</p>}
      {digits.map((d) => (
        <div className="row ivr-row" key={d} data-testid="menu-option">
          <select aria-label={`Digit of option ${d}`} value={d} onChange={(e) => setDigit(d, e.target.value)}>
            {DIGITS.filter((x) => x === d || !(x in opts)).map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
          <span aria-hidden="true">→</span>
          <TargetSelect
            aria-label={`Node for digit ${d}`}
            doc={doc}
            value={opts[d] ?? ""}
            onChange={(t) => onEdit(setField(doc, node.id, "options", { ...opts, [d]: t ?? "" }))}
          />
          <button
            type="button"
            aria-label={`Remove option ${d}`}
            onClick={() => onEdit(connect(doc, node.id, `options.${d}`, null))}
          >
            ✕
          </button>
        </div>
      ))}
      {free && (
        <button type="button" onClick={() => onEdit(setField(doc, node.id, "options", { ...opts, [free]: "" }))}>
          Add option {free}
        </button>
      )}
    </fieldset>
  );
}

function RulesEditor({
  doc,
  node,
  label,
  departments,
  onEdit,
}: {
  doc: FlowDoc;
  node: FlowNode;
  label: string;
  departments: string[];
  onEdit: Edit;
}) {
  const rules = rulesOf(node);
  const put = (i: number, patch: Partial<Rule>, group: string | null = null) =>
    onEdit(
      setField(
        doc,
        node.id,
        "rules",
        rules.map((r, j) => (j === i ? { ...r, ...patch } : r)),
      ),
      group,
    );
  const putIf = (i: number, c: Condition, group: string | null = null) => put(i, { if: c }, group);
  return (
    <fieldset className="ivr-rows">
      <legend>{label}</legend>
      {rules.length === 0 && <p className="muted small">No rules: every call goes “Otherwise”.</p>}
      {rules.map((r, i) => {
        const c = r.if;
        const isVar = c.field.startsWith("var.");
        const fieldChoice = isVar ? "var" : c.field;
        return (
          <div className="ivr-rule" key={i} data-testid="decision-rule">
            <div className="row">
              <select
                aria-label={`What rule ${i + 1} tests`}
                value={fieldChoice}
                onChange={(e) => {
                  const f = e.target.value === "var" ? "var.name" : e.target.value;
                  putIf(i, {
                    ...without(c, "department"),
                    field: f,
                    ...(DEPARTMENT_FIELDS.has(f) && c.department ? { department: c.department } : {}),
                  });
                }}
              >
                {!CONDITION_FIELDS.some(([v]) => v === fieldChoice) && (
                  <option value={fieldChoice}>{fieldChoice || "—"}</option>
                )}
                {CONDITION_FIELDS.map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
              {isVar && (
                <input
                  aria-label={`Variable of rule ${i + 1}`}
                  className="mono"
                  value={c.field.slice(4)}
                  spellCheck={false}
                  onChange={(e) => putIf(i, { ...c, field: `var.${e.target.value}` }, `${node.id}.rules.${i}.var`)}
                />
              )}
            </div>
            <div className="row">
              <select
                aria-label={`Test of rule ${i + 1}`}
                value={c.op}
                onChange={(e) =>
                  putIf(
                    i,
                    UNARY_OPS.has(e.target.value)
                      ? { ...without(c, "value"), op: e.target.value }
                      : { ...c, op: e.target.value },
                  )
                }
              >
                {!CONDITION_OPS.some(([v]) => v === c.op) && <option value={c.op}>{c.op || "—"}</option>}
                {CONDITION_OPS.map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
              {!UNARY_OPS.has(c.op) && (
                <input
                  aria-label={`Value of rule ${i + 1}`}
                  className="mono"
                  value={c.value === undefined ? "" : typeof c.value === "string" ? c.value : JSON.stringify(c.value)}
                  placeholder={c.field === "time" ? "18:00" : c.field === "agents_available" ? "0" : ""}
                  spellCheck={false}
                  onChange={(e) => putIf(i, { ...c, value: valueOf(c, e.target.value) }, `${node.id}.rules.${i}.value`)}
                />
              )}
            </div>
            {DEPARTMENT_FIELDS.has(c.field) && (
              <select
                aria-label={`Department of rule ${i + 1}`}
                value={c.department ?? ""}
                onChange={(e) =>
                  putIf(i, e.target.value ? { ...c, department: e.target.value } : without(c, "department"))
                }
              >
                <option value="">— the provider’s —</option>
                {c.department && !departments.includes(c.department) && (
                  <option value={c.department}>{c.department} (unknown)</option>
                )}
                {departments.map((d) => (
                  <option key={d} value={d}>
                    {d}
                  </option>
                ))}
              </select>
            )}
            <div className="row">
              <span aria-hidden="true">→</span>
              <TargetSelect
                aria-label={`Node for rule ${i + 1}`}
                doc={doc}
                value={r.next}
                onChange={(t) => put(i, { next: t ?? "" })}
              />
              <button
                type="button"
                aria-label={`Remove rule ${i + 1}`}
                onClick={() =>
                  onEdit(
                    setField(
                      doc,
                      node.id,
                      "rules",
                      rules.filter((_, j) => j !== i),
                    ),
                  )
                }
              >
                ✕
              </button>
            </div>
          </div>
        );
      })}
      <button
        type="button"
        onClick={() => onEdit(setField(doc, node.id, "rules", [...rules, { if: newCondition(), next: "" }]))}
      >
        Add rule
      </button>
    </fieldset>
  );
}

/** Numbers stay numbers for numeric tests; `in` takes a comma-separated list. */
function valueOf(c: Condition, text: string): unknown {
  if (c.op === "in") return text.split(",").map((x) => x.trim());
  if (["gt", "gte", "lt", "lte"].includes(c.op) && c.field === "agents_available" && /^\d+$/.test(text.trim()))
    return Number(text.trim());
  return text;
}

function MapEditor({
  label,
  keyLabel,
  valueLabel,
  value,
  onChange,
}: {
  label: string;
  keyLabel: string;
  valueLabel: string;
  value: Record<string, unknown>;
  onChange: (next: Record<string, unknown>, group: string | null) => void;
}) {
  const entries = Object.entries(value);
  const rebuild = (i: number, k: string, v: unknown) =>
    Object.fromEntries(entries.map(([ek, ev], j) => (j === i ? [k, v] : [ek, ev])));
  return (
    <fieldset className="ivr-rows">
      <legend>{label}</legend>
      {entries.map(([k, v], i) => (
        <div className="row ivr-row" key={i}>
          <input
            aria-label={`${keyLabel} ${i + 1}`}
            className="mono"
            value={k}
            onChange={(e) => onChange(rebuild(i, e.target.value, v), `${i}.k`)}
          />
          <input
            aria-label={`${valueLabel} ${i + 1}`}
            className="mono"
            value={typeof v === "string" ? v : JSON.stringify(v)}
            onChange={(e) => onChange(rebuild(i, k, e.target.value), `${i}.v`)}
          />
          <button
            type="button"
            aria-label={`Remove ${keyLabel.toLowerCase()} ${k || i + 1}`}
            onClick={() => onChange(Object.fromEntries(entries.filter((_, j) => j !== i)), null)}
          >
            ✕
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() => {
          let n = entries.length + 1;
          while (`${keyLabel.toLowerCase()}${n}` in value) n++;
          onChange({ ...value, [`${keyLabel.toLowerCase()}${n}`]: "" }, null);
        }}
      >
        Add {keyLabel.toLowerCase()}
      </button>
    </fieldset>
  );
}
