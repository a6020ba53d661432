// Providers (a provider is a department): the list the sidebar, the
// department tabs and the admin screens read (`provider.changed` patches it
// in place and refetches it, stream/apply.ts), and Masters › Providers' own
// reads and writes: presets, keys, the API poller, the ingestion log and the
// mapping preview.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { components } from "../../api/schema";
import type { NewProvider, ProviderPatch } from "../../api/types";
import { usePollWhileOffline } from "../../stream/StreamProvider";

export function useProviders(includeInactive = false) {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: keys.providerList(includeInactive),
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/providers", {
          params: { query: { include_inactive: includeInactive || undefined } },
          signal,
        }),
      ),
    refetchInterval: poll,
  });
}

/** The platforms Callboard ships templates for (they never change at run time). */
export function usePresets() {
  return useQuery({
    queryKey: ["presets"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/presets", { signal })),
    staleTime: Infinity,
  });
}

type S = components["schemas"];

export const providerKeys = {
  connector: (slug: string) => ["connector", slug] as const,
  /** Every page of a provider's ingestion log, or one outcome's. */
  deliveries: (slug: string, outcome?: string) =>
    outcome === undefined ? (["deliveries", slug] as const) : (["deliveries", slug, outcome] as const),
  preview: (request: string | null) => ["mapping-preview", request] as const,
};

export function createProvider(body: NewProvider) {
  return unwrap(client().POST("/api/providers", { body }));
}

export function updateProvider(slug: string, patch: ProviderPatch) {
  return unwrap(client().PATCH("/api/providers/{slug}", { params: { path: { slug } }, body: patch }));
}

/** Deactivates (its webhook stops accepting events) or reactivates a provider. */
export function setProviderActive(slug: string, active: boolean) {
  const params = { path: { slug } };
  return unwrap(
    active
      ? client().POST("/api/providers/{slug}/activate", { params })
      : client().DELETE("/api/providers/{slug}", { params }),
  );
}

export function rotateKey(slug: string, body: S["RotateRequest"]) {
  return unwrap(client().POST("/api/providers/{slug}/rotate-key", { params: { path: { slug } }, body }));
}

/** The provider's API poller (404: it has none), refreshed fast while a run
 * is going, or every `every` ms (an event stream's state). */
export function useConnector(slug: string, every?: number) {
  return useQuery({
    queryKey: providerKeys.connector(slug),
    queryFn: ({ signal }) =>
      unwrap(client().GET("/api/providers/{slug}/connector", { params: { path: { slug } }, signal })),
    retry: false,
    refetchInterval: (q) => (q.state.data?.running ? 2000 : (every ?? 15_000)),
  });
}

export function putConnector(slug: string, body: S["ConnectorInput"]) {
  return unwrap(client().PUT("/api/providers/{slug}/connector", { params: { path: { slug } }, body }));
}

export function syncConnector(slug: string) {
  return unwrap(client().POST("/api/providers/{slug}/connector/sync", { params: { path: { slug } }, body: {} }));
}

export function backfillConnector(slug: string, from: string) {
  return unwrap(
    client().POST("/api/providers/{slug}/connector/backfill", { params: { path: { slug } }, body: { from } }),
  );
}

/** The newest 100 deliveries (of one outcome, or all). */
export function useDeliveries(slug: string, outcome: string) {
  return useQuery({
    queryKey: providerKeys.deliveries(slug, outcome),
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/providers/{slug}/deliveries", {
          params: { path: { slug }, query: { outcome: outcome || undefined, limit: 100 } },
          signal,
        }),
      ),
    // Deliveries are not on the event stream: look again every few seconds.
    refetchInterval: 5_000,
  });
}

export function replayDeliveries(slug: string, body: S["ReplayRequest"]) {
  return unwrap(client().POST("/api/providers/{slug}/replay", { params: { path: { slug } }, body }));
}

/** A saved provider's preview (its last payload by default), or a draft's. */
export type PreviewCall = { slug: string; body: S["PreviewRequest"] } | { slug: null; body: S["DraftPreviewRequest"] };

/** Runs a mapping on the server (nothing is stored). */
export function previewMapping(r: PreviewCall) {
  return r.slug === null
    ? unwrap(client().POST("/api/mapping/preview", { body: r.body }))
    : unwrap(client().POST("/api/providers/{slug}/preview", { params: { path: { slug: r.slug } }, body: r.body }));
}
