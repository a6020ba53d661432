// The provider's API key: shown once (after create or rotate), and rotated
// with a grace period for the old one.
import { useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import type { components } from "../../api/schema";
import type { PresetTemplate, Provider } from "../../api/types";
import { rotateKey } from "./queries";
import { CopyButton, Dialog } from "../../components/Dialog";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { TemplateDownload } from "./TemplateDownload";

type RotateRequest = components["schemas"]["RotateRequest"];

export const GRACE_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 0, label: "None: the old key stops working at once" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86_400, label: "24 hours" },
  { seconds: 604_800, label: "7 days" },
];

/** The key, shown this once, with the webhook URL the platform must call. */
export function ApiKeyDialog({
  title,
  apiKey,
  webhookUrl,
  previousKeyExpiresAt,
  signingSecret,
  platformUrl,
  notes,
  template,
  onDone,
}: {
  title: string;
  apiKey: string;
  webhookUrl: string;
  previousKeyExpiresAt?: string | null;
  /** Signature schemes (HMAC, JWT): the secret the platform signs with, shown once. */
  signingSecret?: string | null;
  /** The URL to paste into the platform when it is not the plain webhook URL. */
  platformUrl?: string | null;
  /** The preset's setup notes for the admin. */
  notes?: string | null;
  /** A file the preset's platform needs installed. */
  template?: PresetTemplate | null;
  onDone: () => void;
}) {
  const id = useId();
  return (
    <Dialog
      title={title}
      onClose={onDone}
      footer={
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      }
    >
      <p className="banner warn">
        Copy the API key now and store it in the platform&apos;s webhook settings: it is shown only this once. If it is
        lost, rotate the key.
      </p>
      <div className="stack tight">
        <span id={`${id}-k`} className="label-text">
          API key
        </span>
        <div className="secret" role="group" aria-labelledby={`${id}-k`}>
          <code data-testid="api-key">{apiKey}</code>
          <CopyButton text={apiKey} label="Copy key" />
        </div>
      </div>
      <div className="stack tight">
        <span id={`${id}-u`} className="label-text">
          Webhook URL
        </span>
        <div className="secret" role="group" aria-labelledby={`${id}-u`}>
          <code data-testid="webhook-url">{webhookUrl}</code>
          <CopyButton text={webhookUrl} label="Copy URL" />
        </div>
      </div>
      {platformUrl && platformUrl !== webhookUrl && (
        <div className="stack tight">
          <span id={`${id}-p`} className="label-text">
            URL to paste into the platform
          </span>
          <div className="secret" role="group" aria-labelledby={`${id}-p`}>
            <code data-testid="platform-url">{platformUrl}</code>
            <CopyButton text={platformUrl} label="Copy platform URL" />
          </div>
        </div>
      )}
      {signingSecret && (
        <div className="stack tight">
          <span id={`${id}-s`} className="label-text">
            Signing secret
          </span>
          <div className="secret" role="group" aria-labelledby={`${id}-s`}>
            <code data-testid="signing-secret">{signingSecret}</code>
            <CopyButton text={signingSecret} label="Copy secret" />
          </div>
        </div>
      )}
      {notes ? (
        <>
          <p className="muted preset-notes">{notes}</p>
          <TemplateDownload template={template} />
        </>
      ) : (
        <p className="muted">
          The platform sends each event as <code>POST</code> (JSON or form) or <code>GET</code> to the webhook URL, with
          the header <code>x-api-key</code> set to the key.
        </p>
      )}
      {previousKeyExpiresAt && (
        <p className="muted">The previous key keeps working until {new Date(previousKeyExpiresAt).toLocaleString()}.</p>
      )}
    </Dialog>
  );
}

/** Confirms a rotation, then shows the new key once. */
export function RotateKeyFlow({ provider, onClose }: { provider: Provider; onClose: () => void }) {
  const qc = useQueryClient();
  const id = useId();
  const [grace, setGrace] = useState(0);
  const rotate = useMutation({
    mutationFn: (body: RotateRequest) => rotateKey(provider.slug, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.providers }),
  });

  if (rotate.data) {
    return (
      <ApiKeyDialog
        title={`New API key for ${provider.name}`}
        apiKey={rotate.data.api_key}
        webhookUrl={rotate.data.provider.webhook_url}
        previousKeyExpiresAt={rotate.data.previous_key_expires_at}
        onDone={onClose}
      />
    );
  }
  return (
    <ConfirmDialog
      title={`Rotate the API key of ${provider.name}?`}
      confirmLabel="Rotate key"
      danger
      busy={rotate.isPending}
      error={rotate.error}
      onCancel={onClose}
      onConfirm={() => rotate.mutate({ grace_seconds: grace })}
    >
      <p>
        A new key is made and shown once. Update the platform&apos;s webhook settings with it before the old key stops
        working.
      </p>
      <div className="field">
        <label htmlFor={`${id}-grace`}>Old key keeps working for</label>
        <select id={`${id}-grace`} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
          {GRACE_CHOICES.map((g) => (
            <option key={g.seconds} value={g.seconds}>
              {g.label}
            </option>
          ))}
        </select>
      </div>
    </ConfirmDialog>
  );
}
