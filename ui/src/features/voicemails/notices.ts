// Voicemails meant for someone (`voicemail.received` with a `for_user_id`):
// fed by the stream, shown by the notice to the person they are meant for
// until opened or dismissed, and announced once (browser notification).
import { useSyncExternalStore } from "react";
import type { components } from "../../api/schema";

export type VoicemailReceived = components["schemas"]["VoicemailReceived"];

type Listener = () => void;

/** Most notices kept at once: older ones are in the inbox. */
const KEPT = 20;

export class VoicemailNotices {
  private list: VoicemailReceived[] = [];
  private readonly seen = new Set<number>();
  private readonly listeners = new Set<Listener>();
  private readonly announcers = new Set<(v: VoicemailReceived) => void>();

  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  snapshot = (): readonly VoicemailReceived[] => this.list;

  /** Called once per new voicemail meant for someone (a replay is not news). */
  onNew(fn: (v: VoicemailReceived) => void): () => void {
    this.announcers.add(fn);
    return () => this.announcers.delete(fn);
  }

  receive(v: VoicemailReceived): void {
    if (v.for_user_id == null || this.seen.has(v.id)) return;
    this.seen.add(v.id);
    this.set([v, ...this.list].slice(0, KEPT));
    for (const fn of this.announcers) fn(v);
  }

  dismiss(id: number): void {
    this.set(this.list.filter((v) => v.id !== id));
  }

  clear(): void {
    this.seen.clear();
    this.set([]);
  }

  private set(list: VoicemailReceived[]): void {
    this.list = list;
    for (const fn of this.listeners) fn();
  }
}

/** The console's one store (cleared when the stream of a session stops). */
export const voicemailNotices = new VoicemailNotices();

/** The notices meant for user `me` (none without a user: a token session). */
export function useVoicemailNotices(me: number | undefined): readonly VoicemailReceived[] {
  const all = useSyncExternalStore(voicemailNotices.subscribe, voicemailNotices.snapshot);
  return me === undefined ? [] : all.filter((v) => v.for_user_id === me);
}
