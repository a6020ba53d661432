// The field-mapping and status-map editor: rows for everyday use, or the whole
// mapping as JSON (e.g. pasted from docs/MAPPING.md).
import { useId, useState, type ReactNode } from "react";
import { STATUSES } from "../../api/types";
import {
  emptyFieldRow,
  emptyStatusRow,
  MAPPING_TARGETS,
  rowToSpec,
  specToRow,
  TRANSFORMS,
  type FieldRow,
  type StatusRow,
} from "./mapping";
import { switchView, type MappingView, type ProviderDraft, type ResolvedMapping } from "./providerDraft";

type MappingDraft = Pick<ProviderDraft, "view" | "fields" | "statuses" | "json">;

export function MappingEditor({
  draft,
  resolved,
  onChange,
  serverError,
}: {
  draft: ProviderDraft;
  resolved: ResolvedMapping;
  onChange: (next: Partial<MappingDraft>) => void;
  /** The server's verdict on the draft (from the preview), shown next to it. */
  serverError?: string | null;
}) {
  const id = useId();
  const [switchError, setSwitchError] = useState<string | null>(null);

  const setView = (view: MappingView) => {
    const r = switchView(draft, view);
    setSwitchError(r.error);
    if (!r.error)
      onChange({ view: r.draft.view, fields: r.draft.fields, statuses: r.draft.statuses, json: r.draft.json });
  };

  const callIdMapped =
    draft.view === "json"
      ? "call_id" in resolved.fieldMapping
      : draft.fields.some((r) => r.target.trim() === "call_id");

  return (
    <section className="stack mapping-editor" aria-labelledby={`${id}-h`}>
      <div className="row">
        <h3 id={`${id}-h`} className="grow">
          Mapping
        </h3>
        <div className="segmented" role="group" aria-label="Edit the mapping as">
          <button type="button" aria-pressed={draft.view === "rows"} onClick={() => setView("rows")}>
            Rows
          </button>
          <button type="button" aria-pressed={draft.view === "json"} onClick={() => setView("json")}>
            JSON
          </button>
        </div>
      </div>
      {switchError && (
        <p className="error-text" role="alert">
          {switchError}
        </p>
      )}
      {serverError && (
        <div className="banner error" role="status" data-testid="mapping-server-error">
          {serverError}
        </div>
      )}

      {draft.view === "json" ? (
        <div className="field">
          <label htmlFor={`${id}-json`}>Mapping JSON</label>
          <textarea
            id={`${id}-json`}
            className="code"
            rows={16}
            spellCheck={false}
            value={draft.json}
            aria-invalid={resolved.jsonError ? true : undefined}
            aria-describedby={`${id}-json-hint${resolved.jsonError ? ` ${id}-json-err` : ""}`}
            onChange={(e) => onChange({ json: e.target.value })}
          />
          <span className="hint" id={`${id}-json-hint`}>
            {'{"field_mapping": {target: spec, …}, "status_map": {word: status, …}}'} — the format of docs/MAPPING.md.
          </span>
          {resolved.jsonError && (
            <span className="error-text" id={`${id}-json-err`}>
              {resolved.jsonError}
            </span>
          )}
        </div>
      ) : (
        <>
          <FieldRows rows={draft.fields} errors={resolved.fieldErrors} onChange={(fields) => onChange({ fields })} />
          {!callIdMapped && (
            <p className="hint muted">
              <code>call_id</code> is not mapped: every event will create a new call. Map it to the provider&apos;s call
              id so later events update the same call.
            </p>
          )}
          <StatusRows
            rows={draft.statuses}
            errors={resolved.statusErrors}
            onChange={(statuses) => onChange({ statuses })}
          />
        </>
      )}
    </section>
  );
}

function FieldRows({
  rows,
  errors,
  onChange,
}: {
  rows: FieldRow[];
  errors: Record<string, string>;
  onChange: (rows: FieldRow[]) => void;
}) {
  const id = useId();
  const update = (key: string, patch: Partial<FieldRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const toggleJson = (r: FieldRow) => {
    if (r.json) {
      // Back to inputs only when the JSON fits them; else the row stays JSON.
      let spec: unknown;
      try {
        spec = JSON.parse(r.raw);
      } catch {
        return;
      }
      const back = specToRow(r.target, spec);
      if (!back.json) update(r.key, { ...back, key: r.key, target: r.target });
      return;
    }
    const { spec } = rowToSpec(r);
    update(r.key, { json: true, raw: JSON.stringify(spec ?? {}) });
  };

  return (
    <div className="stack tight">
      <h4 id={`${id}-cap`}>Fields</h4>
      <p className="hint muted">
        Which value of the payload fills which call column. Paths use dots (<code>data.user.name</code>), fallbacks with{" "}
        <code>|</code>, or JSONPath starting with <code>$</code>. Targets other than the call columns are kept as
        metadata. A new provider starts with Callboard&apos;s own field names: change the paths to match the
        platform&apos;s payload, and remove rows it never sends.
      </p>
      <datalist id={`${id}-targets`}>
        {MAPPING_TARGETS.map((t) => (
          <option key={t} value={t} />
        ))}
      </datalist>
      <datalist id={`${id}-transforms`}>
        {TRANSFORMS.map((t) => (
          <option key={t} value={t} />
        ))}
      </datalist>
      <table className="plain mapping-table" aria-labelledby={`${id}-cap`}>
        <thead>
          <tr>
            <th id={`${id}-t`} scope="col">
              Target
            </th>
            <th id={`${id}-p`} scope="col">
              Path
            </th>
            <th id={`${id}-x`} scope="col">
              Transform
            </th>
            <th id={`${id}-d`} scope="col">
              Default
            </th>
            <th id={`${id}-r`} scope="col">
              Required
            </th>
            <th scope="col">
              <span className="sr-only">Row actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const rowId = `${id}-row${r.key}`;
            const err = errors[r.key];
            const errId = `${rowId}-err`;
            const inputProps = (col: string) => ({
              "aria-labelledby": `${id}-${col} ${rowId}`,
              "aria-describedby": err ? errId : undefined,
              "aria-invalid": err ? true : undefined,
            });
            return (
              <FieldRowView
                key={r.key}
                r={r}
                index={i}
                rowId={rowId}
                err={err}
                errId={errId}
                listTargets={`${id}-targets`}
                listTransforms={`${id}-transforms`}
                inputProps={inputProps}
                onUpdate={(patch) => update(r.key, patch)}
                onToggleJson={() => toggleJson(r)}
                onRemove={() => onChange(rows.filter((x) => x.key !== r.key))}
              />
            );
          })}
        </tbody>
      </table>
      <div>
        <button type="button" onClick={() => onChange([...rows, emptyFieldRow()])}>
          Add field
        </button>
      </div>
    </div>
  );
}

function FieldRowView({
  r,
  index,
  rowId,
  err,
  errId,
  listTargets,
  listTransforms,
  inputProps,
  onUpdate,
  onToggleJson,
  onRemove,
}: {
  r: FieldRow;
  index: number;
  rowId: string;
  err: string | undefined;
  errId: string;
  listTargets: string;
  listTransforms: string;
  inputProps: (col: string) => Record<string, unknown>;
  onUpdate: (patch: Partial<FieldRow>) => void;
  onToggleJson: () => void;
  onRemove: () => void;
}) {
  const label = `field row ${index + 1}${r.target ? ` (${r.target})` : ""}`;
  return (
    <>
      <tr className={err ? "has-error" : undefined} data-testid="field-row">
        <td>
          <span id={rowId} className="sr-only">
            {label}
          </span>
          <input
            list={listTargets}
            value={r.target}
            placeholder="call_id"
            spellCheck={false}
            {...inputProps("t")}
            onChange={(e) => onUpdate({ target: e.target.value })}
          />
        </td>
        {r.json ? (
          <td colSpan={4}>
            <input
              className="code"
              value={r.raw}
              spellCheck={false}
              placeholder='{"path": "data.from", "transform": "e164:91", "required": true}'
              {...inputProps("p")}
              onChange={(e) => onUpdate({ raw: e.target.value })}
            />
          </td>
        ) : (
          <>
            <td>
              <input
                value={r.path}
                placeholder="data.id"
                spellCheck={false}
                {...inputProps("p")}
                onChange={(e) => onUpdate({ path: e.target.value })}
              />
            </td>
            <td>
              <input
                list={listTransforms}
                value={r.transform}
                placeholder="none"
                spellCheck={false}
                {...inputProps("x")}
                onChange={(e) => onUpdate({ transform: e.target.value })}
              />
            </td>
            <td>
              <input
                value={r.default}
                placeholder="—"
                {...inputProps("d")}
                onChange={(e) => onUpdate({ default: e.target.value })}
              />
            </td>
            <td className="center">
              <input
                type="checkbox"
                checked={r.required}
                {...inputProps("r")}
                onChange={(e) => onUpdate({ required: e.target.checked })}
              />
            </td>
          </>
        )}
        <td className="actions">
          <button
            type="button"
            aria-pressed={r.json}
            aria-label={`Edit ${label} as JSON`}
            title="Edit this spec as JSON (for `to`, non-text defaults…)"
            onClick={onToggleJson}
          >
            {"{ }"}
          </button>
          <button type="button" aria-label={`Remove ${label}`} title="Remove" onClick={onRemove}>
            ✕
          </button>
        </td>
      </tr>
      {err && (
        <tr className="row-error">
          <td colSpan={6}>
            <span className="error-text" id={errId}>
              {err}
            </span>
          </td>
        </tr>
      )}
    </>
  );
}

function StatusRows({
  rows,
  errors,
  onChange,
}: {
  rows: StatusRow[];
  errors: Record<string, string>;
  onChange: (rows: StatusRow[]) => void;
}) {
  const id = useId();
  const update = (key: string, patch: Partial<StatusRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <div className="stack tight">
      <h4 id={`${id}-cap`}>Status words</h4>
      <p className="hint muted">
        The provider&apos;s own status words and the Callboard status each means (case is ignored). Words that already
        are a Callboard status need no row.
      </p>
      <table className="plain mapping-table status-table" aria-labelledby={`${id}-cap`}>
        <thead>
          <tr>
            <th id={`${id}-w`} scope="col">
              Provider word
            </th>
            <th id={`${id}-s`} scope="col">
              Callboard status
            </th>
            <th scope="col">
              <span className="sr-only">Row actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const rowId = `${id}-row${r.key}`;
            const err = errors[r.key];
            const errId = `${rowId}-err`;
            const label = `status row ${i + 1}${r.word ? ` (${r.word})` : ""}`;
            const common = {
              "aria-describedby": err ? errId : undefined,
              "aria-invalid": err ? true : undefined,
            };
            const known = (STATUSES as readonly string[]).includes(r.status);
            return (
              <StatusRowFragment key={r.key} err={err} errId={errId}>
                <td>
                  <span id={rowId} className="sr-only">
                    {label}
                  </span>
                  <input
                    value={r.word}
                    placeholder="call.answered"
                    spellCheck={false}
                    aria-labelledby={`${id}-w ${rowId}`}
                    {...common}
                    onChange={(e) => update(r.key, { word: e.target.value })}
                  />
                </td>
                <td>
                  <select
                    value={r.status}
                    aria-labelledby={`${id}-s ${rowId}`}
                    {...common}
                    onChange={(e) => update(r.key, { status: e.target.value })}
                  >
                    {!known && <option value={r.status}>{r.status} (unknown)</option>}
                    {STATUSES.map((s) => (
                      <option key={s} value={s}>
                        {s}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="actions">
                  <button
                    type="button"
                    aria-label={`Remove ${label}`}
                    title="Remove"
                    onClick={() => onChange(rows.filter((x) => x.key !== r.key))}
                  >
                    ✕
                  </button>
                </td>
              </StatusRowFragment>
            );
          })}
        </tbody>
      </table>
      <div>
        <button type="button" onClick={() => onChange([...rows, emptyStatusRow()])}>
          Add status word
        </button>
      </div>
    </div>
  );
}

function StatusRowFragment({ err, errId, children }: { err?: string; errId: string; children: ReactNode }) {
  return (
    <>
      <tr className={err ? "has-error" : undefined} data-testid="status-row">
        {children}
      </tr>
      {err && (
        <tr className="row-error">
          <td colSpan={3}>
            <span className="error-text" id={errId}>
              {err}
            </span>
          </td>
        </tr>
      )}
    </>
  );
}
