// Click-to-call: each department's dialer, the platforms on offer, and the
// Call back action.
import { useQuery, type QueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import type { DialerInput, SmsSettings } from "../../api/types";

export const dialerKeys = {
  dialers: ["dialers"],
  kinds: ["dialer-kinds"],
} as const;

export function useDialers() {
  return useQuery({
    queryKey: dialerKeys.dialers,
    queryFn: ({ signal }) => unwrap(client().GET("/api/dialers", { signal })),
    staleTime: 60_000,
  });
}

export function useDialerKinds() {
  return useQuery({
    queryKey: dialerKeys.kinds,
    queryFn: ({ signal }) => unwrap(client().GET("/api/dialer-kinds", { signal })),
    staleTime: Infinity,
  });
}

/** Asks the department's platform to ring `agent`, then the caller. */
export function callBack(callId: string, department: string, agent: string) {
  return unwrap(
    client().POST("/api/calls/{call_id}/callback", {
      params: { path: { call_id: callId }, query: { department } },
      body: { agent },
    }),
  );
}

export function putDialer(slug: string, body: DialerInput) {
  return unwrap(client().PUT("/api/providers/{slug}/dialer", { params: { path: { slug } }, body }));
}

export function deleteDialer(slug: string) {
  return unwrap(client().DELETE("/api/providers/{slug}/dialer", { params: { path: { slug } } }));
}

export function refreshDialers(qc: QueryClient): void {
  void qc.invalidateQueries({ queryKey: dialerKeys.dialers });
}

/** The agent's end last used on this browser, per platform kind. */
const remembered = (kind: string) => `callboard.callback.agent.${kind}`;

export function rememberedAgent(kind: string): string {
  try {
    return localStorage.getItem(remembered(kind)) ?? "";
  } catch {
    return "";
  }
}

export function rememberAgent(kind: string, value: string): void {
  try {
    localStorage.setItem(remembered(kind), value);
  } catch {
    // Private mode: the agent types it again next time.
  }
}

export const smsKeys = {
  settings: (slug: string) => ["sms", slug],
  messages: (slug: string) => ["sms", slug, "messages"],
};

/** The department's missed-call text (404: it sends none). */
export function useSmsSettings(slug: string) {
  return useQuery({
    queryKey: smsKeys.settings(slug),
    queryFn: ({ signal }) => unwrap(client().GET("/api/providers/{slug}/sms", { params: { path: { slug } }, signal })),
    retry: false,
  });
}

export function useSmsMessages(slug: string) {
  return useQuery({
    queryKey: smsKeys.messages(slug),
    queryFn: ({ signal }) =>
      unwrap(client().GET("/api/providers/{slug}/sms/messages", { params: { path: { slug } }, signal })),
    refetchInterval: 15_000,
  });
}

export function putSms(slug: string, body: SmsSettings) {
  return unwrap(client().PUT("/api/providers/{slug}/sms", { params: { path: { slug } }, body }));
}

export function deleteSms(slug: string) {
  return unwrap(client().DELETE("/api/providers/{slug}/sms", { params: { path: { slug } } }));
}
