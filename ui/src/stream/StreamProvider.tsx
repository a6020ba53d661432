import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { eventsUrl, sessionEnded } from "../api/client";
import { CacheApplier } from "./apply";
import { EventStream, type StreamStatus } from "./stream";
import { crossings } from "../features/thresholds/crossings";
import { voicemailNotices } from "../features/voicemails/notices";

export const StreamStatusContext = createContext<StreamStatus>({ state: "connecting", since: null, lastSeq: null });

/** While the stream is down, lists are polled at this interval. */
const POLL_MS = 5000;

/** `session` changes at each sign-in: the stream starts over for the new person. */
export function StreamProvider({ session, children }: { session: number; children: ReactNode }) {
  const qc = useQueryClient();
  const [status, setStatus] = useState<StreamStatus>({ state: "connecting", since: null, lastSeq: null });

  useEffect(() => {
    const applier = new CacheApplier(qc);
    const stream = new EventStream({
      url: (since) => eventsUrl(since),
      onEvent: (ev) => {
        applier.apply(ev);
        if (ev.type === "threshold.crossed") crossings.receive(ev.data, ev.at);
        if (ev.type === "voicemail.received") voicemailNotices.receive(ev.data);
      },
      onStatus: (s) => setStatus({ ...s }),
      // Events replayed with `since` cover the stream; lists fetched while
      // offline may still be older than them.
      onResume: () => void qc.invalidateQueries(),
      onSignedOut: sessionEnded,
    });
    stream.start();
    const online = () => stream.nudge();
    // A hidden tab's timers run late: a tab shown again draws what came at once.
    const shown = () => {
      if (document.visibilityState === "visible") applier.flush();
    };
    window.addEventListener("online", online);
    document.addEventListener("visibilitychange", shown);
    return () => {
      window.removeEventListener("online", online);
      document.removeEventListener("visibilitychange", shown);
      stream.stop();
      applier.stop();
      crossings.clear();
      voicemailNotices.clear();
    };
  }, [qc, session]);

  return <StreamStatusContext.Provider value={status}>{children}</StreamStatusContext.Provider>;
}

export function useStreamStatus(): StreamStatus {
  return useContext(StreamStatusContext);
}

/** `refetchInterval` for lists: poll only while the stream cannot push. */
export function usePollWhileOffline(): number | false {
  const s = useContext(StreamStatusContext);
  return s.state === "offline" || s.state === "reconnecting" ? POLL_MS : false;
}
