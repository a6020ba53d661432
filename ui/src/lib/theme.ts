// Light and dark: follow the system unless the person chose one.
export type ThemeChoice = "system" | "light" | "dark";
const KEY = "callboard.theme";

export function storedTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

export function applyTheme(choice: ThemeChoice): void {
  const dark =
    choice === "dark" ||
    (choice === "system" && typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  try {
    if (choice === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Storage refused: the choice lasts this page.
  }
}

export function watchSystemTheme(get: () => ThemeChoice): () => void {
  if (typeof matchMedia !== "function") return () => undefined;
  const mq = matchMedia("(prefers-color-scheme: dark)");
  const on = () => {
    if (get() === "system") applyTheme("system");
  };
  mq.addEventListener("change", on);
  return () => mq.removeEventListener("change", on);
}
