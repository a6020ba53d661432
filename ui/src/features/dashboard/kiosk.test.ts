import { describe, expect, it } from "vitest";
import { kioskToken } from "./Kiosk";
import { kioskLink } from "../access/Access";

describe("kiosk links", () => {
  it("are read back from the address they make", () => {
    const link = kioskLink("https://cb.example.com", "cbi_abc+/=");
    expect(link).toBe("https://cb.example.com/dashboard?wallboard=1&kiosk=cbi_abc%2B%2F%3D");
    expect(kioskToken(new URL(link).search)).toBe("cbi_abc+/=");
  });

  it("need the wallboard and a token", () => {
    expect(kioskToken("?kiosk=cbi_x")).toBeNull();
    expect(kioskToken("?wallboard=1")).toBeNull();
    expect(kioskToken("?wallboard=1&kiosk=%20")).toBeNull();
  });
});
