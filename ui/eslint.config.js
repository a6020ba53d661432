import js from "@eslint/js";
import tseslint from "typescript-eslint";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

// The console reaches the API only through the typed client in src/api/
// (`client()` + `unwrap()`, checked against the OpenAPI document): no `fetch`
// elsewhere, and no API URL spelled as a string outside a typed call's path.
const NO_FETCH = [
  {
    selector: "CallExpression[callee.name='fetch']",
    message: "Call the API through client() from src/api/client.ts, not fetch.",
  },
  {
    selector: "MemberExpression[property.name='fetch'][object.name=/^(window|globalThis|self)$/]",
    message: "Call the API through client() from src/api/client.ts, not fetch.",
  },
];
const TYPED_CALL = "CallExpression[callee.property.name=/^(GET|POST|PUT|PATCH|DELETE)$/]";
const NO_API_URLS = [
  {
    selector: `Literal[value=/^(https?:\\/\\/[^/]*)?\\/api\\//]:not(${TYPED_CALL} > Literal)`,
    message: 'API paths belong to typed calls: client().GET("/api/…", …) from src/api/client.ts.',
  },
  {
    selector: "TemplateElement[value.raw=/^(https?:\\/\\/[^/]*)?\\/api\\//]",
    message: 'API paths belong to typed calls: client().GET("/api/…", …) from src/api/client.ts.',
  },
];

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
        {
          patterns: [
            { group: ["@tauri-apps/*"], message: "Only ui/src/desktop/ may import Tauri." },
            { group: ["openapi-fetch"], message: "Use client() from src/api/client.ts." },
          ],
        },
      ],
      "no-restricted-syntax": ["error", ...NO_FETCH, ...NO_API_URLS],
    },
  },
  {
    // The client itself, and the WebSocket URL of the stream (eventsUrl).
    files: ["src/api/**/*.{ts,tsx}"],
    rules: { "no-restricted-imports": "off", "no-restricted-syntax": "off" },
  },
  {
    // Tests assert what exists; a failed `!` shows up as a failed test.
    // Fixtures name the URLs a stubbed `fetch` answers; they still call no `fetch`.
    files: ["src/**/*.test.{ts,tsx}"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "no-restricted-syntax": ["error", ...NO_FETCH],
    },
  },
  {
    // The desktop bridge talks to the Tauri shell, not to the API.
    files: ["src/desktop/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["openapi-fetch"], message: "Use client() from src/api/client.ts." }] },
      ],
    },
  },
  {
    files: ["e2e/**/*.mjs", "scripts/**/*.mjs"],
    // Page functions passed to page.evaluate() run in the browser.
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
