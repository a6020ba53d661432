// Masters › Providers: the IVR platforms that post calls to Callboard.
// /masters/providers lists them (and adds one); /masters/providers/:slug edits one.
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { keys } from "../../api/keys";
import { setProviderActive, useProviders } from "./queries";
import type { PresetTemplate, Provider, ProviderCreated } from "../../api/types";
import { CopyButton } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { iconGlyph } from "../../lib/icons";
import { useNow } from "../../lib/useNow";
import { ToggleActiveDialog } from "../../components/ConfirmDialog";
import { IngestionLog } from "./IngestionLog";
import { ApiKeyDialog, RotateKeyFlow } from "./KeyDialogs";
import { PresetPicker } from "./PresetPicker";
import { ConnectorCard } from "./ConnectorCard";
import { isStreamPlatform, StreamCard } from "./StreamCard";
import { AgentIdsCard } from "./AgentIdsCard";
import { DialerCard } from "../callbacks/DialerCard";
import { SmsCard } from "../callbacks/SmsCard";
import { ProviderForm } from "./ProviderForm";
import { ProviderIvrCard } from "../flows/ProviderIvr";
import { ago, errorRateText, useDeliveryHealth } from "./deliveryHealth";
import { formatWhen } from "../../lib/format";

function byOrder(a: Provider, b: Provider): number {
  return a.display_order - b.display_order || a.name.localeCompare(b.name);
}

export default function ProvidersPage() {
  const { slug } = useParams();
  const providers = useProviders(true);
  const list = [...(providers.data?.data ?? [])].sort(byOrder);
  if (slug)
    return (
      <ProviderDetail
        slug={slug}
        provider={list.find((p) => p.slug === slug)}
        loading={providers.isPending}
        error={providers.error}
        retry={() => void providers.refetch()}
      />
    );
  return (
    <ProviderList
      list={list}
      loading={providers.isPending}
      error={providers.error}
      retry={() => void providers.refetch()}
    />
  );
}

function ProviderList({
  list,
  loading,
  error,
  retry,
}: {
  list: Provider[];
  loading: boolean;
  error: unknown;
  retry: () => void;
}) {
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{
    provider: ProviderCreated;
    notes?: string;
    template?: PresetTemplate | null;
  } | null>(null);
  const [picking, setPicking] = useState(false);
  const [toggling, setToggling] = useState<Provider | null>(null);
  const deliveries = useDeliveryHealth();
  const health = new Map((deliveries.data?.data ?? []).map((d) => [d.slug, d]));
  const now = useNow(30_000);

  if (creating) {
    return (
      <Page title="New provider">
        <ProviderForm
          onCancel={() => setCreating(false)}
          onCreated={(p) => {
            setCreated({ provider: p });
            setCreating(false);
          }}
        />
      </Page>
    );
  }

  return (
    <Page
      title="Providers"
      actions={
        <>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Add provider
          </button>
          <button type="button" onClick={() => setPicking(true)}>
            Add from preset
          </button>
        </>
      }
    >
      <ErrorBanner error={error} onRetry={retry} />
      {loading ? (
        <p className="muted">Loading providers…</p>
      ) : list.length === 0 && !error ? (
        <div className="card stack">
          <p>No providers yet. Add the first IVR platform that will send calls to Callboard.</p>
        </div>
      ) : (
        <table className="plain providers-table" data-testid="providers-table">
          <thead>
            <tr>
              <th scope="col" className="num">
                Order
              </th>
              <th scope="col">Provider</th>
              <th scope="col">State</th>
              <th scope="col">DID numbers</th>
              <th scope="col" className="num">
                SLA
              </th>
              <th scope="col">Last delivery</th>
              <th scope="col">Errors (24&nbsp;h)</th>
              <th scope="col">Webhook URL</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.slug} className={p.active ? undefined : "inactive"} data-testid="provider-row">
                <td className="num">{p.display_order}</td>
                <td>
                  <Link to={`/masters/providers/${encodeURIComponent(p.slug)}`} className="provider-name">
                    <span aria-hidden="true">{iconGlyph(p.icon)}</span> {p.name}
                  </Link>
                  <div className="muted mono small">{p.slug}</div>
                </td>
                <td>
                  <span className={`state ${p.active ? "on" : "off"}`}>{p.active ? "Active" : "Inactive"}</span>
                </td>
                <td className="small">
                  {p.did_numbers.length ? p.did_numbers.join(", ") : <span className="muted">—</span>}
                </td>
                <td className="num">{p.sla_minutes} min</td>
                <td data-testid="last-delivery" title={formatWhen(health.get(p.slug)?.last_delivery_at)}>
                  {ago(health.get(p.slug)?.last_delivery_at, now)}
                </td>
                <td
                  data-testid="error-rate"
                  className={(health.get(p.slug)?.errors ?? 0) > 0 ? "warn-text" : undefined}
                  title={
                    health.get(p.slug)?.last_error_at
                      ? `Last error ${formatWhen(health.get(p.slug)?.last_error_at)}`
                      : undefined
                  }
                >
                  {errorRateText(health.get(p.slug))}
                </td>
                <td>
                  <div className="url-cell" role="group" aria-label={`Webhook URL of ${p.name}`}>
                    <code className="small">{p.webhook_url}</code>
                    <CopyButton text={p.webhook_url} label="Copy" />
                  </div>
                </td>
                <td className="actions">
                  <Link
                    className="button"
                    to={`/masters/providers/${encodeURIComponent(p.slug)}`}
                    aria-label={`Edit ${p.name}`}
                  >
                    Edit
                  </Link>
                  <button
                    type="button"
                    className={p.active ? "danger" : undefined}
                    aria-label={`${p.active ? "Deactivate" : "Reactivate"} ${p.name}`}
                    onClick={() => setToggling(p)}
                  >
                    {p.active ? "Deactivate" : "Reactivate"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {toggling && <ActiveToggle provider={toggling} onClose={() => setToggling(null)} />}
      {picking && (
        <PresetPicker
          onCancel={() => setPicking(false)}
          onCreated={(p, preset) => {
            setPicking(false);
            setCreated({ provider: p, notes: preset.notes, template: preset.template });
          }}
        />
      )}
      {created && (
        <ApiKeyDialog
          title={`${created.provider.name} is ready`}
          apiKey={created.provider.api_key}
          webhookUrl={created.provider.webhook_url}
          signingSecret={created.provider.signing_secret}
          platformUrl={created.provider.platform_url}
          notes={created.notes}
          template={created.template}
          onDone={() => {
            const slug = created.provider.slug;
            setCreated(null);
            navigate(`/masters/providers/${encodeURIComponent(slug)}`);
          }}
        />
      )}
    </Page>
  );
}

/** Deactivate (DELETE) or reactivate, after confirmation. */
function ActiveToggle({ provider, onClose }: { provider: Provider; onClose: () => void }) {
  return (
    <ToggleActiveDialog
      title={`${provider.active ? "Deactivate" : "Reactivate"} ${provider.name}?`}
      confirmLabel={provider.active ? "Deactivate" : "Reactivate"}
      danger={provider.active}
      run={() => setProviderActive(provider.slug, !provider.active)}
      invalidate={keys.providers}
      onClose={onClose}
    >
      {provider.active ? (
        <p>
          Its webhook stops accepting events (the platform gets “not found”) and it leaves the sidebar of every console.
          Its calls, history and settings are kept; you can reactivate it at any time.
        </p>
      ) : (
        <p>Its webhook accepts events again with its current key, and it returns to the sidebar.</p>
      )}
    </ToggleActiveDialog>
  );
}

function ProviderDetail({
  slug,
  provider,
  loading,
  error,
  retry,
}: {
  slug: string;
  provider: Provider | undefined;
  loading: boolean;
  error: unknown;
  retry: () => void;
}) {
  const navigate = useNavigate();
  const [rotating, setRotating] = useState(false);
  const [toggling, setToggling] = useState(false);
  const now = useNow(60_000);
  const back = () => navigate("/masters/providers");

  if (!provider) {
    return (
      <Page title="Provider">
        <ErrorBanner error={error} onRetry={retry} />
        {loading ? (
          <p className="muted">Loading…</p>
        ) : (
          !error && (
            <p>
              There is no provider <code>{slug}</code>. <Link to="/masters/providers">Back to providers</Link>
            </p>
          )
        )}
      </Page>
    );
  }

  return (
    <Page
      title={`Provider · ${provider.name}`}
      actions={
        <>
          <Link to="/masters/providers">← All providers</Link>
          <span className="grow" />
          <button type="button" onClick={() => setRotating(true)}>
            Rotate key
          </button>
          <button type="button" className={provider.active ? "danger" : undefined} onClick={() => setToggling(true)}>
            {provider.active ? "Deactivate" : "Reactivate"}
          </button>
        </>
      }
    >
      <section className="card stack webhook-card" aria-label="Webhook">
        <div className="row">
          <span className={`state ${provider.active ? "on" : "off"}`}>{provider.active ? "Active" : "Inactive"}</span>
          <span className="muted">
            {iconGlyph(provider.icon)} <span className="mono">{provider.slug}</span>
          </span>
          {provider.api_key_hint && (
            <span className="muted">
              API key starts <code>{provider.api_key_hint}…</code>
            </span>
          )}
          <span className="muted" data-testid="auth-scheme">
            Authentication <code>{provider.auth_scheme}</code>
            {provider.has_signing_secret ? " · signing secret set" : ""}
            {provider.preset ? ` · from the ${provider.preset} preset` : ""}
          </span>
          {provider.domains.length > 0 && (
            <span className="muted">
              Cloudonix domains <code>{provider.domains.join(", ")}</code>
            </span>
          )}
          {provider.previous_key_expires_at && Date.parse(provider.previous_key_expires_at) > now && (
            <span className="muted">
              previous key works until {new Date(provider.previous_key_expires_at).toLocaleString()}
            </span>
          )}
        </div>
        <div className="secret">
          <span className="label-text">Webhook URL</span>
          <code data-testid="provider-webhook-url">{provider.webhook_url}</code>
          <CopyButton text={provider.webhook_url} label="Copy URL" />
        </div>
        {!provider.active && (
          <p className="banner warn">This provider is inactive: its webhook refuses events until it is reactivated.</p>
        )}
      </section>
      <ProviderForm key={provider.slug} provider={provider} onCancel={back} />
      <ProviderIvrCard key={`ivr-${provider.slug}`} provider={provider} />
      {provider.preset === "convoso" && <ConnectorCard provider={provider} />}
      {isStreamPlatform(provider.preset) && <StreamCard provider={provider} platform={provider.preset} />}
      <DialerCard provider={provider} />
      <SmsCard provider={provider} />
      <AgentIdsCard provider={provider} />
      <IngestionLog slug={provider.slug} />
      {rotating && <RotateKeyFlow provider={provider} onClose={() => setRotating(false)} />}
      {toggling && <ActiveToggle provider={provider} onClose={() => setToggling(false)} />}
    </Page>
  );
}
