import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist", "node_modules", "src/api/schema.d.ts", "e2e/shots"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["src/**/*.{ts,tsx}", "vite.config.ts"],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // Advice for the React Compiler, which this build does not use.
      "react-hooks/incompatible-library": "off",
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@tauri-apps/*"], message: "Only ui/src/desktop/ may import Tauri." }] },
      ],
    },
  },
  {
    // Tests assert what exists; a failed `!` shows up as a failed test.
    files: ["src/**/*.test.{ts,tsx}"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
  {
    files: ["src/desktop/**/*.{ts,tsx}"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: ["e2e/**/*.mjs", "scripts/**/*.mjs"],
    // Page functions passed to page.evaluate() run in the browser.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
