// @vitest-environment node
// The lint rule that keeps every request on the typed client: `fetch` and
// API URLs outside src/api/ fail, a typed call's path passes.
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import { beforeAll, describe, expect, it } from "vitest";

const ui = fileURLToPath(new URL("../..", import.meta.url));

let eslint: ESLint;

// Loading the project's ESLint configuration takes seconds on a busy machine.
beforeAll(async () => {
  eslint = new ESLint({ cwd: ui });
  await eslint.calculateConfigForFile("src/features/live/probe.ts");
}, 120_000);

async function problems(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-syntax").map((m) => m.message);
}

describe("requests go through the typed client", () => {
  it("refuses fetch and API URLs in a screen", async () => {
    const found = await problems(
      [
        'export const a = () => fetch("/x");',
        'export const b = () => window.fetch("/x");',
        'export const c = "/api/calls";',
        "export const d = (id: string) => `${location.origin}/api/calls/${id}`;",
      ].join("\n"),
      "src/features/live/probe.ts",
    );
    expect(found).toHaveLength(4);
  });

  it("lets a typed call name its path, and src/api/ build URLs", async () => {
    const typed = 'import { client } from "../../api/client";\nexport const x = () => client().GET("/api/stats");\n';
    expect(await problems(typed, "src/features/live/probe.ts")).toEqual([]);
    expect(await problems('export const u = "/api/events";\n', "src/api/probe.ts")).toEqual([]);
  });
});
