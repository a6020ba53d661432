// Masters › Access: integration tokens (read-only access for a CRM or BI
// tool) and the sign-in locks in force.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

type S = components["schemas"];
export type IntegrationToken = S["IntegrationToken"];
export type NewIntegrationToken = S["NewIntegrationToken"];
export type Scope = S["Scope"];
export type Lock = S["LockView"];
export type TotpSetup = S["TotpSetup"];

export const accessKeys = {
  tokens: ["integration-tokens"] as const,
  locks: ["lockouts"] as const,
  totp: ["totp"] as const,
};

export function useIntegrationTokens() {
  return useQuery({
    queryKey: accessKeys.tokens,
    queryFn: ({ signal }) => unwrap(client().GET("/api/integration-tokens", { signal })),
  });
}

export function createIntegrationToken(body: NewIntegrationToken) {
  return unwrap(client().POST("/api/integration-tokens", { body }));
}

export function revokeIntegrationToken(id: number) {
  return unwrap(client().DELETE("/api/integration-tokens/{id}", { params: { path: { id } } }));
}

export function useLockouts() {
  return useQuery({
    queryKey: accessKeys.locks,
    queryFn: ({ signal }) => unwrap(client().GET("/api/auth/lockouts", { signal })),
    refetchInterval: 15_000,
  });
}

/** Lifts the locks of a name (every client), of a client, or of both together. */
export function clearLockouts(lock: { username?: string | null; client?: string | null }) {
  return unwrap(
    client().DELETE("/api/auth/lockouts", {
      params: { query: { username: lock.username ?? undefined, client: lock.client ?? undefined } },
    }),
  );
}

/** The signed-in person's two-step sign-in. */
export function useTotp() {
  return useQuery({
    queryKey: accessKeys.totp,
    queryFn: ({ signal }) => unwrap(client().GET("/api/auth/totp", { signal })),
  });
}

export function setUpTotp() {
  return unwrap(client().POST("/api/auth/totp/setup"));
}

export function enableTotp(code: string) {
  return unwrap(client().POST("/api/auth/totp/enable", { body: { code } }));
}

export function disableTotp(code: string) {
  return unwrap(client().POST("/api/auth/totp/disable", { body: { code } }));
}
