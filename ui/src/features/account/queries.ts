// The signed-in person's own account: their password.
import { client, unwrap } from "../../api/client";

/** Changes the password, given the current one; other sessions end. */
export function changePassword(current: string, next: string) {
  return unwrap(client().POST("/api/auth/password", { body: { current, new: next } }));
}
