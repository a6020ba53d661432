// Validation of the Users form (pure, so it can be tested).
import type { Role } from "../../api/types";

export const ROLES: readonly { value: Role; label: string; hint: string }[] = [
  { value: "admin", label: "Admin", hint: "Everything, including Masters." },
  { value: "supervisor", label: "Supervisor", hint: "Every department; no Masters." },
  { value: "agent", label: "Agent", hint: "Only the departments ticked below." },
];

export interface UserDraft {
  username: string;
  displayName: string;
  password: string;
  role: Role;
  departments: string[];
  /** Skills for skills-based routing, separated by commas. */
  skills?: string;
}

/** "Spanish, billing" → ["spanish", "billing"] (the server normalises the same way). */
export function skillsList(s: string | undefined): string[] {
  return [
    ...new Set(
      (s ?? "")
        .split(",")
        .map((x) => x.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}

export function validateUser(
  d: UserDraft,
  creating: boolean,
): { errors: Partial<Record<keyof UserDraft, string>>; ok: boolean } {
  const errors: Partial<Record<keyof UserDraft, string>> = {};
  if (creating) {
    const u = d.username.trim();
    if (!u) errors.username = "User name is required.";
    else if (!/^[\p{L}\p{N}._@-]{2,64}$/u.test(u))
      errors.username = "Use 2–64 letters, digits, dots, underscores, hyphens or @ (no spaces).";
  }
  if (creating && !d.password) errors.password = "Password is required.";
  else if (d.password && Array.from(d.password).length < 8) errors.password = "Password must be at least 8 characters.";
  if (Array.from(d.displayName.trim()).length > 80) errors.displayName = "Display name must be at most 80 characters.";
  if (d.role === "agent" && d.departments.length === 0)
    errors.departments = "An agent needs at least one department: tick the providers whose calls they handle.";
  return { errors, ok: Object.keys(errors).length === 0 };
}
