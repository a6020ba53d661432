import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { pretty, stepNode, visitedNodes } from "./Simulator";
import { IvrPath, defaultDialect, ivrUrlOf } from "./ProviderIvr";
import type { SimStep } from "./api";

afterEach(cleanup);

const step = (input: string, visits: [string, string | null, boolean?][], node: string | null): SimStep => ({
  input,
  visits: visits.map(([n, edge, resumed]) => ({ node: n, type: "x", edge, resumed })),
  node,
  rendered: { content_type: "application/xml", body: "<Response/>" },
  ended: node === null,
  event: { kind: "start" },
  instruction: { actions: [] },
});

describe("simulator", () => {
  it("lists the nodes entered, once each time a caller enters them", () => {
    const steps = [
      step(
        "start",
        [
          ["welcome", "next"],
          ["menu", null],
        ],
        "menu",
      ),
      step(
        "1",
        [
          ["menu", "options.1", true],
          ["queue", null],
        ],
        "queue",
      ),
      step("hangup", [["queue", "hangup", true]], null),
    ];
    expect(visitedNodes(steps)).toEqual(["welcome", "menu", "queue"]);
    expect(stepNode(steps[1]!)).toBe("queue");
    expect(stepNode(steps[2]!)).toBe("queue");
  });

  it("indents XML and JSON for reading without changing their content", () => {
    const xml = '<Response><Gather numDigits="1"><Say>Hi</Say></Gather><Hangup/></Response>';
    const out = pretty(xml);
    expect(out).toBe(
      ["<Response>", '  <Gather numDigits="1">', "    <Say>Hi</Say>", "  </Gather>", "  <Hangup/>", "</Response>"].join(
        "\n",
      ),
    );
    expect(out.replace(/\n\s*/g, "")).toBe(xml);
    expect(pretty('[{"action":"talk"}]')).toBe('[\n  {\n    "action": "talk"\n  }\n]');
  });
});

describe("provider IVR and the call drawer", () => {
  it("takes the dialect from the preset and the IVR URL from the server", () => {
    expect(defaultDialect("ozonetel")).toBe("kookoo");
    expect(defaultDialect("knowlarity")).toBe("json");
    expect(ivrUrlOf({ slug: "s", webhook_url: "http://h:1/webhooks/ivr/s", ivr_url: "http://h:1/ivr/s" })).toBe(
      "http://h:1/ivr/s",
    );
    expect(ivrUrlOf({ slug: "s", webhook_url: "http://h:1/webhooks/ivr/s" })).toBe("http://h:1/ivr/s");
  });

  it("shows the exit reason and the node from the call's metadata, and nothing for a call without IVR", () => {
    const { rerender } = render(<IvrPath call={{ metadata: { exit_reason: "ivr_abandon", ivr_node: "main_menu" } }} />);
    expect(screen.getByTestId("ivr-path").textContent).toContain("Hung up in the IVR");
    expect(screen.getByTestId("ivr-path").textContent).toContain("at main_menu");
    rerender(<IvrPath call={{ metadata: {} }} />);
    expect(screen.queryByTestId("ivr-path")).toBeNull();
  });

  it("shows why an sms node's text was not sent, from the call's ivr_path", () => {
    render(
      <IvrPath
        call={{
          ivr_path: [
            { node: "welcome", type: "welcome", edge: "next" },
            { node: "text", type: "sms", edge: "next", detail: "sms_not_sent_no_dialer" },
          ],
        }}
      />,
    );
    const path = screen.getByTestId("ivr-path").textContent ?? "";
    expect(path).toContain("text");
    expect(path).toContain("sms_not_sent_no_dialer");
  });
});
