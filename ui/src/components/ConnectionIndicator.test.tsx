import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { StreamStatusContext } from "../stream/StreamProvider";
import type { StreamStatus } from "../stream/stream";

function shown(status: StreamStatus): string {
  const { unmount } = render(
    <StreamStatusContext.Provider value={status}>
      <ConnectionIndicator />
    </StreamStatusContext.Provider>,
  );
  const text = screen.getByRole("status").textContent ?? "";
  unmount();
  return text;
}

describe("ConnectionIndicator", () => {
  it("says Live, Reconnecting, or Offline since the time the connection was lost", () => {
    expect(shown({ state: "live", since: null, lastSeq: 4 })).toBe("Live");
    expect(shown({ state: "reconnecting", since: new Date(), lastSeq: 4 })).toBe("Reconnecting…");
    expect(shown({ state: "offline", since: new Date(2026, 0, 2, 9, 5), lastSeq: 4 })).toBe("Offline since 09:05");
  });
});
