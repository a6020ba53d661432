// The wallboard on a TV by a kiosk link, `/dashboard?wallboard=1&kiosk=<token>`:
// no sign-in. The token is an integration token with the `wallboard:read`
// scope, which reads today's figures, the departments and the threshold
// levels and nothing else (no call, no number); the figures are polled every
// 5 s, as without the event stream, which carries calls and is not open to it.
import { useState } from "react";
import { BrowserRouter } from "react-router";
import { configure } from "../../api/client";
import { StreamStatusContext } from "../../stream/StreamProvider";
import type { StreamStatus } from "../../stream/stream";
import { Wallboard } from "./Dashboard";

const POLLING: StreamStatus = { state: "offline", since: null, lastSeq: null };

/** The `kiosk` token of a wallboard address, if this page is one. */
export function kioskToken(search: string): string | null {
  const params = new URLSearchParams(search);
  if (params.get("wallboard") !== "1") return null;
  const token = params.get("kiosk")?.trim();
  return token ? token : null;
}

export function KioskWallboard({ token }: { token: string }) {
  // Before the first query: every request carries the kiosk token.
  useState(() => configure({ token, csrf: null }));
  return (
    <BrowserRouter>
      <StreamStatusContext.Provider value={POLLING}>
        <Wallboard kiosk />
      </StreamStatusContext.Provider>
    </BrowserRouter>
  );
}
