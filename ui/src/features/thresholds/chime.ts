// A short chime when a threshold gets worse: two tones, higher for red.
// Browsers allow sound once the person has interacted with the page; before
// that the chime is skipped silently (the banner and the title still show).
import type { Level } from "./model";

let ctx: AudioContext | null = null;

function audio(): AudioContext | null {
  if (typeof window === "undefined" || typeof window.AudioContext !== "function") return null;
  ctx ??= new window.AudioContext();
  return ctx;
}

/** The tones (Hz) of a level's chime. */
export function chimeTones(level: Level): number[] {
  return level === "red" ? [880, 1175] : [660, 880];
}

export function chime(level: Level): void {
  try {
    const a = audio();
    if (!a) return;
    if (a.state === "suspended") void a.resume();
    const start = a.currentTime;
    chimeTones(level).forEach((hz, i) => {
      const osc = a.createOscillator();
      const gain = a.createGain();
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, start + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.2, start + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.16);
      osc.connect(gain).connect(a.destination);
      osc.start(start + i * 0.18);
      osc.stop(start + i * 0.18 + 0.17);
    });
  } catch {
    // No audio device or a refused context: the visual alerts remain.
  }
}
