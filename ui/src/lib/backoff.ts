// Reconnect delays: exponential with full jitter, so a hundred consoles that
// lost the server together do not come back in lockstep.
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  baseMs = 500,
  capMs = 30_000,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(baseMs / 2 + random() * (ceiling - baseMs / 2));
}
