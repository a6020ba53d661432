/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a `callboard serve` on the default port.
const target = process.env.CALLBOARD_URL ?? "http://127.0.0.1:8787";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 900 },
  server: {
    // The glossary's tooltips are read from docs/METRICS.md (src/lib/glossary.ts).
    fs: { allow: [".", "../docs"] },
    proxy: {
      "/api": { target, ws: true },
      "/webhooks": { target },
      "/healthz": { target },
    },
  },
  test: {
    environment: "jsdom",
    // One environment per worker, not per file: setting up jsdom for each of
    // the 44 files took 28 of the run's 56 s. test-setup.ts cleans the DOM
    // after each test; the suite passes in shuffled order.
    isolate: false,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
    testTimeout: 30_000,
  },
});
