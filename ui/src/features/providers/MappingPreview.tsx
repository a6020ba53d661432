// Runs the draft mapping on the server (nothing is stored) and shows the call
// it would make, with its warnings, as the admin types.
import { useId } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { errorText } from "../../api/errors";
import type { components } from "../../api/schema";
import type { PreviewResponse, Status } from "../../api/types";
import { previewMapping, providerKeys, type PreviewCall } from "./queries";
import { StatusBadge } from "../../components/StatusBadge";
import { pretty } from "../../lib/format";
import { useDebounced } from "../../lib/useDebounced";

type PreviewRequest = components["schemas"]["PreviewRequest"];
type DraftPreviewRequest = components["schemas"]["DraftPreviewRequest"];

export type SampleSource = "last" | "pasted";

/** The preview request a draft makes, or why none can be made yet. */
export function previewRequest(input: {
  slug: string | null;
  source: SampleSource;
  sampleText: string;
  fieldMapping: Record<string, unknown>;
  statusMap: Record<string, unknown>;
}): PreviewCall | { error: string } {
  let sample: unknown = undefined;
  if (input.source === "pasted" || !input.slug) {
    if (!input.sampleText.trim()) return { error: "Paste a sample payload (JSON) to see what it maps to." };
    try {
      sample = JSON.parse(input.sampleText);
    } catch (e) {
      return { error: `The sample is not valid JSON: ${(e as Error).message}` };
    }
  }
  if (input.slug) {
    const body: PreviewRequest = { field_mapping: input.fieldMapping, status_map: input.statusMap };
    if (sample !== undefined) body.sample = sample;
    return { slug: input.slug, body };
  }
  const body: DraftPreviewRequest = {
    field_mapping: input.fieldMapping,
    status_map: input.statusMap,
    sample,
    slug: "draft",
  };
  return { slug: null, body };
}

const CALL_FIELDS: readonly string[] = [
  "call_id",
  "status",
  "raw_status",
  "mobile_number",
  "caller_name",
  "did",
  "direction",
  "agent_id",
  "agent_name",
  "started_at",
  "answered_at",
  "ended_at",
  "duration_seconds",
  "recording_url",
];

function show(v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/**
 * The server's refusal of a mapping, in its own words: it names the field at
 * fault (`field_mapping.did: unknown transform …`). Null for other errors.
 */
export function mappingErrorOf(e: unknown): string | null {
  if (e instanceof ApiError && e.status === 422 && /^(field_mapping|status_map)\b/i.test(e.serverMessage))
    return e.serverMessage;
  return null;
}

export interface PreviewState {
  request: ReturnType<typeof previewRequest>;
  settled: boolean;
  data: PreviewResponse | undefined;
  error: unknown;
  fetching: boolean;
  stale: boolean;
  /** A server validation error about the mapping itself, to show next to it. */
  mappingError: string | null;
  /** The provider has no last payload to preview with. */
  nothingReceived: boolean;
}

/** The debounced preview of a draft mapping (~300 ms after the last keystroke). */
export function useMappingPreview(input: {
  slug: string | null;
  source: SampleSource;
  sampleText: string;
  fieldMapping: Record<string, unknown>;
  statusMap: Record<string, unknown>;
  /** Client-side errors: nothing is sent while set. */
  blocked: boolean;
}): PreviewState {
  const request = previewRequest({ ...input, source: input.slug ? input.source : "pasted" });
  const key = input.blocked || "error" in request ? null : JSON.stringify(request);
  const debounced = useDebounced(key, 300);
  const settled = debounced === key;
  const q = useQuery({
    queryKey: providerKeys.preview(debounced),
    queryFn: () => {
      const r = JSON.parse(debounced ?? "null") as PreviewCall;
      return previewMapping(r);
    },
    enabled: debounced !== null && settled,
    retry: false,
    staleTime: 5_000,
    // The last received payload changes as deliveries arrive: look again now and then.
    refetchInterval: input.slug && input.source === "last" ? 10_000 : false,
    placeholderData: keepPreviousData,
  });
  const err = settled && key !== null && q.isError ? q.error : null;
  const aboutMapping = mappingErrorOf(err) !== null;
  return {
    request,
    settled,
    data: key === null ? undefined : q.data,
    error: err,
    fetching: q.isFetching,
    stale: q.isPlaceholderData || !settled,
    mappingError: mappingErrorOf(err),
    nothingReceived:
      err instanceof ApiError &&
      err.status === 422 &&
      !aboutMapping &&
      /not received anything/i.test(err.serverMessage),
  };
}

export function MappingPreview({
  slug,
  source,
  onSource,
  sampleText,
  onSampleText,
  preview,
  blockedReason,
}: {
  /** The saved provider, whose last received payload can be the sample; null while creating. */
  slug: string | null;
  source: SampleSource;
  onSource: (s: SampleSource) => void;
  sampleText: string;
  onSampleText: (s: string) => void;
  preview: PreviewState;
  /** Why the draft cannot be previewed yet (client-side errors). */
  blockedReason: string | null;
}) {
  const id = useId();
  const effectiveSource: SampleSource = slug ? source : "pasted";
  const p = preview.data;
  const call = (p?.call ?? {}) as Record<string, unknown>;
  const metadata = (call.metadata ?? {}) as Record<string, unknown>;

  let body;
  if (blockedReason) body = <p className="muted">{blockedReason}</p>;
  else if ("error" in preview.request) body = <p className="muted">{preview.request.error}</p>;
  else if (preview.nothingReceived)
    body = (
      <div className="stack tight">
        <p className="muted">Nothing has been received from this provider yet, so there is no last payload.</p>
        <div>
          <button type="button" onClick={() => onSource("pasted")}>
            Paste a sample instead
          </button>
        </div>
      </div>
    );
  else if (preview.mappingError)
    body = (
      <div className="banner error" data-testid="preview-error">
        The server rejected the mapping: {preview.mappingError}
      </div>
    );
  else if (preview.error)
    body = (
      <div className="banner error" data-testid="preview-error">
        {errorText(preview.error)}
      </div>
    );
  else if (!p) body = <p className="muted">{preview.fetching || !preview.settled ? "Mapping…" : "No preview yet."}</p>;
  else
    body = (
      <div className="stack tight" data-testid="preview-result" aria-busy={preview.stale || undefined}>
        {preview.stale && <span className="updating">Updating…</span>}
        {p.error ? (
          <div className="banner error">
            <strong>Would be stored as a failed delivery:</strong> {p.error}
          </div>
        ) : (
          <div className="banner ok">Would be applied to call {show(call.call_id)}.</div>
        )}
        {p.warnings.length > 0 && (
          <div className="banner warn">
            <strong>
              {p.warnings.length} warning{p.warnings.length === 1 ? "" : "s"}
            </strong>
            <ul>
              {p.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          </div>
        )}
        <dl className="fields">
          {CALL_FIELDS.map((f) => (
            <FieldLine key={f} name={f} value={call[f]} />
          ))}
          <FieldLine name="event_id" value={p.event_id} />
          <FieldLine name="event_at" value={p.event_at} />
          {Object.entries(metadata).map(([k, v]) => (
            <FieldLine key={`m-${k}`} name={`metadata.${k}`} value={v} />
          ))}
        </dl>
        <details>
          <summary>Sample used</summary>
          <pre>{pretty(p.sample)}</pre>
        </details>
      </div>
    );

  return (
    <section className="card stack preview" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Mapping preview</h3>
      {slug && (
        <fieldset className="row radio-row">
          <legend>Sample</legend>
          <label className="check">
            <input type="radio" name={`${id}-src`} checked={source === "last"} onChange={() => onSource("last")} />
            Last received payload
          </label>
          <label className="check">
            <input type="radio" name={`${id}-src`} checked={source === "pasted"} onChange={() => onSource("pasted")} />
            Pasted sample
          </label>
        </fieldset>
      )}
      {effectiveSource === "pasted" && (
        <div className="field">
          <label htmlFor={`${id}-sample`}>Sample payload</label>
          <textarea
            id={`${id}-sample`}
            className="code"
            rows={6}
            spellCheck={false}
            placeholder='{"call_id": "abc", "from": "+919876543210", "status": "ringing"}'
            value={sampleText}
            onChange={(e) => onSampleText(e.target.value)}
          />
        </div>
      )}
      <div aria-live="polite">{body}</div>
    </section>
  );
}

function FieldLine({ name, value }: { name: string; value: unknown }) {
  if (name === "status" && typeof value === "string") {
    return (
      <>
        <dt>{name}</dt>
        <dd>
          <StatusBadge status={value as Status} />
        </dd>
      </>
    );
  }
  const empty = value === null || value === undefined || value === "";
  return (
    <>
      <dt>{name}</dt>
      <dd className={empty ? "muted" : undefined}>{show(value)}</dd>
    </>
  );
}
