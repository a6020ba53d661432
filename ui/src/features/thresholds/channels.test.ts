import { describe, expect, it } from "vitest";
import { buildChannels, toSmtpDraft, type SmtpDraft } from "./channels";

const smtp = (patch: Partial<SmtpDraft> = {}): SmtpDraft => ({ ...toSmtpDraft(undefined), ...patch });

describe("buildChannels", () => {
  it("sends every department as null and trims targets", () => {
    const out = buildChannels(
      [
        { kind: "slack", target: " https://hooks.slack.com/x ", departments: [] },
        { kind: "webhook", target: "http://127.0.0.1:9/a", departments: ["sales"] },
      ],
      smtp(),
    );
    expect(out.error).toBeUndefined();
    expect(out.channels).toEqual([
      { kind: "slack", target: "https://hooks.slack.com/x", departments: null },
      { kind: "webhook", target: "http://127.0.0.1:9/a", departments: ["sales"] },
    ]);
    expect(out.smtp).toBeNull();
  });

  it("refuses a bad target and an e-mail channel without SMTP", () => {
    expect(buildChannels([{ kind: "teams", target: "not a url", departments: [] }], smtp()).error).toBe(
      "Channel 1: An http(s) URL.",
    );
    expect(buildChannels([{ kind: "email", target: "a@b.co", departments: [] }], smtp()).error).toMatch(/SMTP/);
  });

  it("keeps, replaces or forgets the stored password", () => {
    const base = smtp({ enabled: true, host: "mail", port: "25", security: "none", from: "cb@example.com" });
    expect(buildChannels([], base).smtp).toEqual({
      host: "mail",
      port: 25,
      security: "none",
      from: "cb@example.com",
      username: null,
    });
    expect(buildChannels([], { ...base, password: "pw" }).smtp?.password).toBe("pw");
    expect(buildChannels([], { ...base, forgetPassword: true }).smtp?.password).toBe("");
    expect(buildChannels([], { ...base, port: "0" }).error).toBe("Check the SMTP settings.");
  });
});
