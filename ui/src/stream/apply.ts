// Stream events patched into the query cache: the live queue changes row by
// row; lists whose membership depends on server-side filters are refetched,
// coalesced so a burst of events costs one request per list.
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import { keys } from "../api/keys";
import type { components } from "../api/schema";
import type { Call, Provider } from "../api/types";

type ProviderChanged = components["schemas"]["Provider"];
import type { StreamEvent } from "./stream";

/** Whether a call belongs in the live queue. */
export function isLive(c: Call): boolean {
  if (c.status === "waiting" || c.status === "ringing" || c.status === "active") return true;
  return c.status === "missed" && c.work_state === "pending";
}

export function callKey(c: Pick<Call, "department" | "call_id">): string {
  return `${c.department}\u0000${c.call_id}`;
}

/** Upserts or removes `call` in a live-queue list. Returns a new array. */
export function patchLive(list: Call[], call: Call, department: string): Call[] {
  const belongs = isLive(call) && (department === "all" || call.department === department);
  const key = callKey(call);
  const i = list.findIndex((c) => callKey(c) === key);
  if (i === -1) return belongs ? [call, ...list] : list;
  const old = list[i];
  if (old && old.version > call.version) return list;
  if (!belongs) return list.filter((_, j) => j !== i);
  const next = list.slice();
  next[i] = call;
  return next;
}

/** Merges a `provider.changed` event into a list. The event carries the
 * provider without its view fields (`webhook_url`): a provider not yet in the
 * list arrives with the refetch that follows. */
export function patchProviders(list: Provider[], p: ProviderChanged): Provider[] {
  const i = list.findIndex((x) => x.id === p.id);
  if (i === -1) return list;
  const next = list.map((x, j) => (j === i ? { ...x, ...p } : x));
  return next.sort((a, b) => a.display_order - b.display_order || a.name.localeCompare(b.name));
}

export class CacheApplier {
  private pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly qc: QueryClient;

  constructor(qc: QueryClient) {
    this.qc = qc;
  }

  apply(ev: StreamEvent): void {
    switch (ev.type) {
      case "call.upserted":
      case "call.sla_breached":
        this.call(ev.data);
        break;
      case "agent.state_changed":
        this.later(keys.agents);
        break;
      case "disposition.saved": {
        const d = ev.data as Partial<typeof ev.data> | null;
        if (d?.call) this.call(d.call);
        break;
      }
      case "provider.changed": {
        const p = ev.data;
        for (const [key, list] of this.qc.getQueriesData<{ data: Provider[] }>({ queryKey: keys.providers })) {
          if (list?.data) this.qc.setQueryData(key, { ...list, data: patchProviders(list.data, p) });
        }
        this.later(keys.providers);
        this.later(keys.provider(p.slug));
        break;
      }
      case "category.changed":
        this.later(keys.categories);
        break;
      case "user.changed":
        this.later(keys.users);
        // It may be this person: their role or departments decide what they see.
        this.later(keys.me);
        break;
      case "flow.changed":
        // Lists, drafts, versions and analytics; the editor keeps its own
        // unsaved state, so a refetch never overwrites what is being typed.
        this.later(keys.flows);
        this.later(keys.providers);
        break;
      case "thresholds.updated":
      case "threshold.crossed":
        this.later(keys.thresholds);
        break;
      case "voicemail.received":
        this.later(["voicemails"]);
        break;
      case "reload":
        void this.qc.invalidateQueries();
        break;
      default: {
        // A kind this build does not know is ignored at run time (a newer
        // server); a kind the schema adds and this switch misses fails here.
        const unhandled: never = ev;
        void unhandled;
        break;
      }
    }
  }

  private call(c: Call): void {
    for (const [key, list] of this.qc.getQueriesData<Call[]>({ queryKey: keys.live })) {
      const dept = String((key as unknown[])[1] ?? "all");
      if (list) this.qc.setQueryData(key, patchLive(list, c, dept));
      // A list still loading would land without this call (its answer was
      // made before the event): fetch it again once it is in.
      if (!list || this.qc.getQueryState(key)?.fetchStatus === "fetching") this.later(key);
    }
    this.later(keys.call(c.department, c.call_id));
    this.later(keys.worklist);
    this.later(keys.stats);
    // The agent board shows who is on which call and what they handled.
    this.later(keys.agentBoard);
  }

  private later(key: QueryKey): void {
    this.pending.add(JSON.stringify(key));
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) void this.qc.invalidateQueries({ queryKey: JSON.parse(k) as QueryKey });
    }, 200);
  }
}
