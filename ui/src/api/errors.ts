// Server error codes in words a person understands. The server's own message
// is kept where it already says what to fix (validation errors).

const WORDS: Record<string, string> = {
  network: "Cannot reach the Callboard server. Check the connection; the console keeps retrying.",
  unauthorized: "Your session has ended. Please sign in again.",
  invalid_token: "Your session has ended. Please sign in again.",
  missing_token: "Please sign in.",
  session_expired: "Your session ended after a time without use, or at the end of its day. Sign in again.",
  csrf_failed: "The server could not tell this change came from the console. Reload the page and try again.",
  bad_credentials: "That user name and password do not match.",
  invalid_login_code: "This sign-in link has expired or was already used. Sign in with your user name and password.",
  invalid_totp: "That code is wrong or has expired. Enter the one your app shows now.",
  totp_required: "Enter the 6-digit code your authenticator app shows for Callboard.",
  password_change_required: "Choose a password of your own first: the one you signed in with was printed or temporary.",
  too_many_attempts: "Too many failed sign-ins. Wait a minute and try again.",
  forbidden: "Your role does not allow this.",
  shutting_down: "The server is restarting. Try again in a moment.",
  storage_error: "The server could not save this. Try again; if it persists, tell your administrator.",
  route_not_found: "The server does not know this address. Is the console newer than the server?",
};

/** Codes whose server message is already for a person and names what only
 * the server knows: on a replica, whose desktop it is and the receiver's
 * address. */
const SERVER_SAYS = new Set(["replica_user_mismatch", "sign_in_needs_receiver"]);

export function humanMessage(status: number, code: string, serverMessage: string): string {
  if (SERVER_SAYS.has(code) && serverMessage.trim()) return capitalise(serverMessage);
  const known = WORDS[code];
  if (known) return known;
  if (status === 400 || status === 422 || status === 409) return capitalise(serverMessage);
  if (status === 404) return capitalise(serverMessage || "Not found.");
  if (status === 403) return WORDS.forbidden ?? serverMessage;
  if (status === 401) return WORDS.unauthorized ?? serverMessage;
  if (status === 429) return "The server is busy; try again in a moment.";
  if (status >= 500)
    return `The server failed (${status}): ${serverMessage}. Try again; if it persists, tell your administrator.`;
  return capitalise(serverMessage || `Request failed (${status}).`);
}

function capitalise(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
