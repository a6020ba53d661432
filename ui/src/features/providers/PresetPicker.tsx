// "Add provider from preset": the platforms Callboard ships templates for.
// The server fills in the mapping, status map and authentication scheme.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { createProvider, usePresets } from "./queries";
import type { Preset, ProviderCreated } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { TemplateDownload } from "./TemplateDownload";

export function PresetPicker({
  onCancel,
  onCreated,
}: {
  onCancel: () => void;
  onCreated: (p: ProviderCreated, preset: Preset) => void;
}) {
  const id = useId();
  const qc = useQueryClient();
  const presets = usePresets();
  const [chosen, setChosen] = useState("");
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const preset = presets.data?.data.find((p) => p.id === chosen);

  const create = useMutation({
    mutationFn: () => createProvider({ name: name.trim(), preset: chosen }),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: keys.providers });
      if (preset) onCreated(p, preset);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) return setProblem("Choose the platform.");
    if (!name.trim()) return setProblem("Name the department, e.g. “Sales IVR”.");
    setProblem(null);
    create.mutate();
  };

  return (
    <Dialog title="Add provider from preset" onClose={onCancel}>
      <form className="stack" onSubmit={submit} noValidate>
        <ErrorBanner error={presets.error} onRetry={() => void presets.refetch()} />
        <fieldset className="stack tight">
          <legend>Platform</legend>
          {(presets.data?.data ?? []).map((p) => (
            <label key={p.id} className="check">
              <input
                type="radio"
                name={`${id}-preset`}
                value={p.id}
                checked={chosen === p.id}
                onChange={() => {
                  setChosen(p.id);
                  if (!name.trim()) setName(p.id === "generic" ? "" : p.name);
                }}
              />
              {p.name}
            </label>
          ))}
        </fieldset>
        {preset && (
          <>
            {preset.unverified && (
              <p className="banner warn" data-testid="preset-unverified">
                Not verified against a recorded delivery: {preset.unverified}
              </p>
            )}
            <p className="muted preset-notes" data-testid="preset-notes">
              {preset.notes}
            </p>
            <TemplateDownload template={preset.template} />
          </>
        )}
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={80} />
        </div>
        {problem && (
          <p className="error-text" role="alert">
            {problem}
          </p>
        )}
        <ErrorBanner error={create.error} />
        <div className="row">
          <button className="primary" type="submit" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create from preset"}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
