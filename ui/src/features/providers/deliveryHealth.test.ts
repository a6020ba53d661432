import { describe, expect, it } from "vitest";
import { ago, errorRateText, type DeliveryHealth } from "./deliveryHealth";

const now = Date.parse("2026-03-01T12:00:00Z");

describe("delivery columns", () => {
  it("say how long ago", () => {
    expect(ago(null, now)).toBe("never");
    expect(ago("2026-03-01T11:59:40Z", now)).toBe("just now");
    expect(ago("2026-03-01T11:48:00Z", now)).toBe("12 min ago");
    expect(ago("2026-03-01T09:00:00Z", now)).toBe("3 h ago");
    expect(ago("2026-02-26T12:00:00Z", now)).toBe("3 d ago");
  });
  it("give the error rate with its counts", () => {
    const d: DeliveryHealth = { slug: "s", deliveries: 120, errors: 3, error_rate: 0.025 };
    expect(errorRateText(d)).toBe("2.5 % (3 of 120)");
    expect(errorRateText({ ...d, deliveries: 0, errors: 0, error_rate: null })).toBe("—");
    expect(errorRateText(undefined)).toBe("—");
  });
});
