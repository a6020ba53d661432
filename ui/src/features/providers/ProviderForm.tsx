// Add or edit a provider: its details, the mapping editor, and beside it the
// live preview of what the draft makes of a payload.
import { useId, useRef, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import type { Provider, ProviderCreated } from "../../api/types";
import { createProvider, updateProvider } from "./queries";
import { ICONS } from "../../lib/icons";
import { Field } from "../../components/Field";
import { ErrorBanner } from "../../components/ErrorBanner";
import { MappingEditor } from "./MappingEditor";
import { SlaRouting } from "./SlaRouting";
import { MappingPreview, mappingErrorOf, useMappingPreview, type SampleSource } from "./MappingPreview";
import { draftFromProvider, emptyDraft, validateDraft, withName, withSlug, type ProviderDraft } from "./providerDraft";

export function ProviderForm({
  provider,
  onCreated,
  onCancel,
}: {
  /** The provider being edited; absent to create one. */
  provider?: Provider;
  onCreated?: (p: ProviderCreated) => void;
  onCancel: () => void;
}) {
  const creating = !provider;
  const id = useId();
  const qc = useQueryClient();
  const formRef = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState<ProviderDraft>(() => (provider ? draftFromProvider(provider) : emptyDraft()));
  const [submitted, setSubmitted] = useState(false);
  const [saved, setSaved] = useState(false);
  const [source, setSource] = useState<SampleSource>(provider ? "last" : "pasted");
  const [sampleText, setSampleText] = useState("");

  const v = validateDraft(draft, creating);
  const shown = submitted ? v.errors : {};
  const mappingBlocked = !v.mapping.ok;

  const preview = useMappingPreview({
    slug: provider?.slug ?? null,
    source,
    sampleText,
    fieldMapping: v.mapping.fieldMapping,
    statusMap: v.mapping.statusMap,
    blocked: mappingBlocked,
  });

  const save = useMutation({
    mutationFn: async () => {
      if (provider) {
        await updateProvider(provider.slug, v.patch);
        return null;
      }
      return createProvider(v.create);
    },
    onSuccess: async (created) => {
      await qc.invalidateQueries({ queryKey: keys.providers });
      if (created) onCreated?.(created);
      else {
        setSaved(true);
        setSubmitted(false);
      }
    },
  });

  /** Every edit: the "Saved." note and a stale refusal from the server go away. */
  const edit = (fn: (d: ProviderDraft) => ProviderDraft) => {
    setSaved(false);
    if (save.isError) save.reset();
    setDraft(fn);
  };
  const change = (next: Partial<ProviderDraft>) => edit((d) => ({ ...d, ...next }));

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    setSubmitted(true);
    setSaved(false);
    if (!v.ok) {
      // Take the person to the first thing to fix.
      requestAnimationFrame(() => {
        const first = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
        first?.focus();
        first?.scrollIntoView?.({ block: "center" });
      });
      return;
    }
    save.mutate();
  };

  const errorCount = Object.keys(v.errors).length;

  return (
    <form ref={formRef} className="stack provider-form" noValidate onSubmit={onSubmit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} className="sr-only">
        {creating ? "New provider" : `Edit ${provider.name}`}
      </h2>
      <div className="provider-layout">
        <div className="stack">
          <section className="card stack" aria-labelledby={`${id}-details`}>
            <h3 id={`${id}-details`}>Details</h3>
            <div className="grid2">
              <Field label="Name" error={shown.name}>
                {(p) => (
                  <input
                    {...p}
                    value={draft.name}
                    maxLength={80}
                    autoComplete="off"
                    onChange={(e) => edit((d) => withName(d, e.target.value, creating))}
                  />
                )}
              </Field>
              <Field
                label="Slug"
                error={shown.slug}
                hint={
                  creating
                    ? "Part of the webhook URL; cannot change later. Filled from the name."
                    : "Cannot change: the webhook URL depends on it."
                }
              >
                {(p) => (
                  <input
                    {...p}
                    className="mono"
                    value={creating ? draft.slug : provider.slug}
                    readOnly={!creating}
                    placeholder={creating ? "from the name" : undefined}
                    spellCheck={false}
                    autoComplete="off"
                    onChange={(e) => edit((d) => withSlug(d, e.target.value))}
                  />
                )}
              </Field>
              <Field
                label="Display order"
                error={shown.displayOrder}
                hint={
                  creating
                    ? "Lower comes first in the sidebar. Blank: after the last one."
                    : "Lower comes first in the sidebar."
                }
              >
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.displayOrder}
                    onChange={(e) => change({ displayOrder: e.target.value })}
                  />
                )}
              </Field>
              <Field label="SLA minutes" error={shown.sla} hint="Time allowed to call back a missed caller.">
                {(p) => (
                  <input
                    {...p}
                    inputMode="numeric"
                    value={draft.sla}
                    onChange={(e) => change({ sla: e.target.value })}
                  />
                )}
              </Field>
            </div>
            <fieldset className="icon-picker" aria-describedby={shown.icon ? `${id}-icon-err` : undefined}>
              <legend>Icon</legend>
              <div className="icon-choices">
                {Object.entries(ICONS).map(([name, glyph]) => (
                  <label key={name} className="icon-choice" title={name}>
                    <input
                      type="radio"
                      className="sr-only"
                      name={`${id}-icon`}
                      value={name}
                      checked={draft.icon === name}
                      onChange={() => change({ icon: name })}
                    />
                    <span aria-hidden="true" className="glyph">
                      {glyph}
                    </span>
                    <span className="name">{name}</span>
                  </label>
                ))}
              </div>
              {shown.icon && (
                <span className="error-text" id={`${id}-icon-err`}>
                  {shown.icon}
                </span>
              )}
            </fieldset>
            <Field
              label="DID numbers"
              error={shown.dids}
              hint="The numbers callers dial: one per line, or separated by commas."
            >
              {(p) => (
                <textarea
                  {...p}
                  rows={2}
                  value={draft.dids}
                  spellCheck={false}
                  onChange={(e) => change({ dids: e.target.value })}
                />
              )}
            </Field>
          </section>
          <SlaRouting draft={draft} showErrors={submitted} onChange={change} />
          <section className="card">
            <MappingEditor
              draft={draft}
              resolved={v.mapping}
              serverError={preview.mappingError ?? mappingErrorOf(save.error)}
              onChange={(next) => change(next)}
            />
          </section>
        </div>
        <div className="preview-col">
          <MappingPreview
            slug={provider?.slug ?? null}
            source={source}
            onSource={setSource}
            sampleText={sampleText}
            onSampleText={setSampleText}
            preview={preview}
            blockedReason={
              mappingBlocked ? (v.mapping.jsonError ?? "Fix the mapping rows marked in red to see a preview.") : null
            }
          />
        </div>
      </div>
      <div className="form-actions">
        {mappingErrorOf(save.error) ? (
          <p className="banner error" role="alert">
            The server refused the mapping: {mappingErrorOf(save.error)}
          </p>
        ) : (
          <ErrorBanner error={save.error} />
        )}
        {submitted && errorCount > 0 && (
          <p className="error-text" role="alert">
            {errorCount === 1 ? "One thing to fix" : `${errorCount} things to fix`} before saving:{" "}
            {Object.values(v.errors).join(" ")}
          </p>
        )}
        {saved && (
          <p className="banner ok" role="status">
            Saved.
          </p>
        )}
        <div className="row">
          <button type="submit" className="primary" aria-disabled={save.isPending || undefined}>
            {save.isPending ? "Saving…" : creating ? "Create provider" : "Save changes"}
          </button>
          <button type="button" onClick={onCancel}>
            {creating ? "Cancel" : "Back to providers"}
          </button>
        </div>
      </div>
    </form>
  );
}
