import { describe, expect, it } from "vitest";
import { humanMessage } from "./errors";

describe("humanMessage", () => {
  it("shows a replica's own words for a sign-in it cannot open", () => {
    const mismatch =
      "this desktop mirrors asha's view of the receiver, so bela cannot sign in here (its cache holds only that view); open the receiver at http://10.0.0.5:8787 to sign in as bela";
    expect(humanMessage(403, "replica_user_mismatch", mismatch)).toBe(
      "This desktop mirrors asha's view of the receiver, so bela cannot sign in here (its cache holds only that view); open the receiver at http://10.0.0.5:8787 to sign in as bela.",
    );
    expect(humanMessage(503, "sign_in_needs_receiver", "signing in here needs the receiver (http://r:8787)")).toBe(
      "Signing in here needs the receiver (http://r:8787).",
    );
  });

  it("keeps the console's words for other codes, and for a bare 403", () => {
    expect(humanMessage(401, "bad_credentials", "wrong user name or password")).toBe(
      "That user name and password do not match.",
    );
    expect(humanMessage(403, "forbidden", "only admins may do this")).toBe("Your role does not allow this.");
    expect(humanMessage(403, "replica_user_mismatch", "")).toBe("Your role does not allow this.");
  });
});
