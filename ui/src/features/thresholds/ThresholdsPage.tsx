// Thresholds and alerts: per department the levels at which each figure
// turns amber and red, where alerts go, and what was sent. Admins edit;
// supervisors read.
import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useMutation } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { useProviders } from "../providers/queries";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { useSession } from "../../session";
import { AlertLog } from "./AlertLog";
import { buildChannels, toChannelDrafts, toSmtpDraft, type ChannelDraft, type SmtpDraft } from "./channels";
import { ChannelsEditor } from "./ChannelsEditor";
import { LevelsTable } from "./LevelsTable";
import { fromDrafts, toDrafts, type Drafts, type RowErrors, type ThresholdConfig } from "./model";
import { putThresholds, useThresholdConfig, useThresholdStates } from "./queries";
import { SmtpForm } from "./SmtpForm";
import "./thresholds.css";

function Editor({ config, canEdit }: { config: ThresholdConfig; canEdit: boolean }) {
  const qc = useQueryClient();
  const providers = (useProviders().data?.data ?? []).filter((p) => p.active);
  const states = useThresholdStates().data?.data ?? [];
  const [drafts, setDrafts] = useState<Drafts>(() => toDrafts(config));
  const [channels, setChannels] = useState<ChannelDraft[]>(() => toChannelDrafts(config));
  const [smtp, setSmtp] = useState<SmtpDraft>(() => toSmtpDraft(config));
  const [rowErrors, setRowErrors] = useState<Record<string, RowErrors>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [showErrors, setShowErrors] = useState(false);
  const [saved, setSaved] = useState(false);

  const save = useMutation({
    mutationFn: putThresholds,
    onSuccess: (next) => {
      qc.setQueryData(["thresholds", "config"], next);
      void qc.invalidateQueries({ queryKey: keys.thresholds });
      setSmtp(toSmtpDraft(next));
      setSaved(true);
    },
  });

  const submit = () => {
    setSaved(false);
    setShowErrors(true);
    const levels = fromDrafts(
      drafts,
      providers.map((p) => p.slug),
      config.thresholds ?? [],
    );
    setRowErrors(levels.errors);
    const ch = buildChannels(channels, smtp);
    if (Object.keys(levels.errors).length) {
      setProblem("Some levels are not valid: see the fields marked below.");
      return;
    }
    if (ch.error) {
      setProblem(ch.error);
      return;
    }
    setProblem(null);
    save.mutate({ thresholds: levels.thresholds, channels: ch.channels, smtp: ch.smtp });
  };

  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <fieldset className="stack" disabled={!canEdit} style={{ border: 0, padding: 0, margin: 0 }}>
        <h2 className="section-title">Levels by department</h2>
        <p className="muted">
          A figure turns amber or red at its level or worse; blank: no alert at that level. Service level and abandon
          rate are percentages over the rolling window. Inside the quiet period a threshold does not alert again at the
          same or a lower level.
        </p>
        {providers.length === 0 && <p className="muted">Add a provider first.</p>}
        {providers.map((p) => (
          <LevelsTable
            key={p.slug}
            provider={p}
            drafts={drafts}
            errors={rowErrors}
            states={states}
            onChange={(key, next) => {
              setSaved(false);
              setDrafts((d) => ({ ...d, [key]: next }));
            }}
          />
        ))}
        <ChannelsEditor
          channels={channels}
          providers={providers}
          showErrors={showErrors}
          onChange={(next) => {
            setSaved(false);
            setChannels(next);
          }}
        />
        <SmtpForm
          smtp={smtp}
          showErrors={showErrors}
          onChange={(next) => {
            setSaved(false);
            setSmtp(next);
          }}
        />
      </fieldset>
      {problem && (
        <div className="banner error" role="alert">
          {problem}
        </div>
      )}
      <ErrorBanner error={save.error} />
      {canEdit ? (
        <div className="row form-actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save thresholds"}
          </button>
          {saved && (
            <span className="banner ok" role="status">
              Saved. Levels are evaluated again now.
            </span>
          )}
        </div>
      ) : (
        <p className="muted">Only an administrator can change thresholds and channels.</p>
      )}
    </form>
  );
}

export default function ThresholdsPage() {
  const { isAdmin } = useSession();
  const config = useThresholdConfig();
  const providers = useProviders().data?.data ?? [];
  return (
    <Page title="Thresholds and alerts">
      <ErrorBanner error={config.error} onRetry={() => void config.refetch()} />
      {config.data ? (
        <Editor config={config.data} canEdit={isAdmin} />
      ) : (
        !config.error && <p className="muted">Loading thresholds…</p>
      )}
      <AlertLog providers={providers} />
    </Page>
  );
}
