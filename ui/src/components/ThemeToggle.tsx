import { useEffect, useState } from "react";
import { applyTheme, storedTheme, type ThemeChoice } from "../lib/theme";

export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  useEffect(() => applyTheme(choice), [choice]);
  return (
    <label className="row" style={{ flexDirection: "row", fontWeight: 400 }}>
      <span className="sr-only">Theme</span>
      <select aria-label="Theme" value={choice} onChange={(e) => setChoice(e.target.value as ThemeChoice)}>
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
