// Masters › Users: who may sign in, with their role and (for agents) departments.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { useProviders } from "../providers/queries";
import { createUser, setUserActive, updateUser, useUsers } from "./queries";
import type { NewUser, Provider, Role, User, UserPatch } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { formatWhen } from "../../lib/format";
import { useSession } from "../../session";
import { Field } from "../../components/Field";
import { ToggleActiveDialog } from "../../components/ConfirmDialog";
import { ROLES, skillsList, validateUser, type UserDraft } from "./forms";

function roleLabel(r: Role): string {
  return ROLES.find((x) => x.value === r)?.label ?? r;
}

export default function UsersPage() {
  const { me } = useSession();
  const users = useUsers();
  const providers = useProviders(true);
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [toggling, setToggling] = useState<User | null>(null);
  const provs = [...(providers.data?.data ?? [])].sort(
    (a, b) => a.display_order - b.display_order || a.name.localeCompare(b.name),
  );
  const nameOf = (slug: string) => provs.find((p) => p.slug === slug)?.name ?? slug;
  const list = [...(users.data?.data ?? [])].sort(
    (a, b) => Number(b.active) - Number(a.active) || a.username.localeCompare(b.username),
  );

  return (
    <Page
      title="Users"
      actions={
        <button type="button" className="primary" onClick={() => setEditing("new")}>
          Add user
        </button>
      }
    >
      <ErrorBanner error={users.error} onRetry={() => void users.refetch()} />
      <ErrorBanner error={providers.error} onRetry={() => void providers.refetch()} />
      {users.isPending ? (
        <p className="muted">Loading users…</p>
      ) : (
        <table className="plain" data-testid="users-table">
          <thead>
            <tr>
              <th scope="col">User name</th>
              <th scope="col">Display name</th>
              <th scope="col">Role</th>
              <th scope="col">Departments</th>
              <th scope="col">State</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((u) => (
              <tr key={u.id} className={u.active ? undefined : "inactive"} data-testid="user-row">
                <td>
                  <span className="mono">{u.username}</span>
                  {me?.user?.id === u.id && <span className="muted"> (you)</span>}
                </td>
                <td>{u.display_name || <span className="muted">—</span>}</td>
                <td>{roleLabel(u.role)}</td>
                <td>
                  {u.role !== "agent" ? (
                    <span className="muted">All</span>
                  ) : u.departments.length ? (
                    u.departments.map(nameOf).join(", ")
                  ) : (
                    <span className="error-text">None: sees no calls</span>
                  )}
                </td>
                <td>
                  <span className={`state ${u.active ? "on" : "off"}`}>{u.active ? "Active" : "Inactive"}</span>
                </td>
                <td title={u.updated_at}>{formatWhen(u.updated_at)}</td>
                <td className="actions">
                  <button type="button" aria-label={`Edit ${u.username}`} onClick={() => setEditing(u)}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className={u.active ? "danger" : undefined}
                    aria-label={`${u.active ? "Deactivate" : "Reactivate"} ${u.username}`}
                    onClick={() => setToggling(u)}
                  >
                    {u.active ? "Deactivate" : "Reactivate"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editing && (
        <UserDialog
          user={editing === "new" ? null : editing}
          providers={provs}
          providersState={providers.isPending ? "loading" : providers.error ? providers.error : null}
          onClose={() => setEditing(null)}
        />
      )}
      {toggling && (
        <ActiveToggle user={toggling} isSelf={me?.user?.id === toggling.id} onClose={() => setToggling(null)} />
      )}
    </Page>
  );
}

function UserDialog({
  user,
  providers,
  providersState,
  onClose,
}: {
  user: User | null;
  providers: Provider[];
  /** "loading", a load error, or null once the providers are known. */
  providersState: unknown;
  onClose: () => void;
}) {
  const creating = !user;
  const qc = useQueryClient();
  const formId = useId();
  const [draft, setDraft] = useState<UserDraft>(() => ({
    username: user?.username ?? "",
    displayName: user?.display_name ?? "",
    password: "",
    role: user?.role ?? "agent",
    departments: user?.departments ?? [],
    skills: (user?.skills ?? []).join(", "),
  }));
  const [submitted, setSubmitted] = useState(false);
  const v = validateUser(draft, creating);
  const shown = submitted ? v.errors : {};

  const save = useMutation({
    mutationFn: () => {
      if (user) {
        const patch: UserPatch = {
          display_name: draft.displayName.trim(),
          role: draft.role,
          departments: draft.departments,
          skills: skillsList(draft.skills),
        };
        if (draft.password) patch.password = draft.password;
        return updateUser(user.id, patch);
      }
      const body: NewUser = {
        username: draft.username.trim(),
        display_name: draft.displayName.trim() || null,
        password: draft.password,
        role: draft.role,
        departments: draft.departments,
        skills: skillsList(draft.skills),
      };
      return createUser(body);
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.users });
      onClose();
    },
  });

  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (save.isPending) return;
    setSubmitted(true);
    if (!v.ok) {
      const form = e.currentTarget;
      requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    save.mutate();
  };

  const toggleDept = (slug: string, on: boolean) =>
    setDraft((d) => ({
      ...d,
      departments: on ? [...d.departments.filter((x) => x !== slug), slug] : d.departments.filter((x) => x !== slug),
    }));
  // Departments no longer offered (a deleted provider) stay visible so they can be removed.
  const known = new Set(providers.map((p) => p.slug));
  const orphans = draft.departments.filter((d) => !known.has(d));
  const deptHintId = `${formId}-dept-hint`;
  const deptErrId = `${formId}-dept-err`;

  return (
    <Dialog
      title={user ? `Edit user ${user.username}` : "New user"}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="primary" aria-disabled={save.isPending || undefined}>
            {creating ? "Create user" : "Save changes"}
          </button>
        </>
      }
    >
      <form id={formId} className="stack" noValidate onSubmit={onSubmit}>
        <div className="grid2">
          {creating && (
            <Field label="User name" error={shown.username} hint="For signing in; cannot change later.">
              {(p) => (
                <input
                  {...p}
                  value={draft.username}
                  autoComplete="off"
                  spellCheck={false}
                  autoCapitalize="none"
                  onChange={(e) => setDraft({ ...draft, username: e.target.value })}
                />
              )}
            </Field>
          )}
          <Field label="Display name" error={shown.displayName} hint="Shown on calls and in the worklist.">
            {(p) => (
              <input
                {...p}
                value={draft.displayName}
                autoComplete="off"
                onChange={(e) => setDraft({ ...draft, displayName: e.target.value })}
              />
            )}
          </Field>
          <Field
            label={creating ? "Password" : "New password"}
            error={shown.password}
            hint={
              creating
                ? "At least 8 characters."
                : "Leave blank to keep the current one. Setting one signs the user out everywhere."
            }
          >
            {(p) => (
              <input
                {...p}
                type="password"
                autoComplete="new-password"
                value={draft.password}
                onChange={(e) => setDraft({ ...draft, password: e.target.value })}
              />
            )}
          </Field>
          <Field label="Skills" hint="For skills-based callback routing, separated by commas (e.g. spanish, billing).">
            {(p) => (
              <input
                {...p}
                value={draft.skills ?? ""}
                autoComplete="off"
                onChange={(e) => setDraft({ ...draft, skills: e.target.value })}
              />
            )}
          </Field>
          <Field label="Role" hint={ROLES.find((r) => r.value === draft.role)?.hint}>
            {(p) => (
              <select {...p} value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value as Role })}>
                {ROLES.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <fieldset
          className="checks"
          aria-describedby={`${deptHintId}${shown.departments ? ` ${deptErrId}` : ""}`}
          aria-invalid={shown.departments ? true : undefined}
        >
          <legend>Departments</legend>
          <span className="hint" id={deptHintId}>
            {draft.role === "agent"
              ? "The agent sees only these providers' calls. At least one is required."
              : "Admins and supervisors see every department; this only matters if the role becomes agent."}
          </span>
          {providersState === "loading" ? (
            <p className="muted">Loading providers…</p>
          ) : providersState ? (
            <ErrorBanner error={providersState} />
          ) : (
            providers.length === 0 && (
              <p className="muted">No providers yet: add one under Masters › Providers first.</p>
            )
          )}
          <div className="check-grid">
            {providers.map((p) => (
              <label key={p.slug} className="check">
                <input
                  type="checkbox"
                  checked={draft.departments.includes(p.slug)}
                  aria-invalid={shown.departments ? true : undefined}
                  onChange={(e) => toggleDept(p.slug, e.target.checked)}
                />
                {p.name}
                {!p.active && <span className="muted small"> (inactive)</span>}
              </label>
            ))}
            {orphans.map((slug) => (
              <label key={slug} className="check">
                <input type="checkbox" checked onChange={() => toggleDept(slug, false)} />
                {slug} <span className="muted small">(no such provider)</span>
              </label>
            ))}
          </div>
          {shown.departments && (
            <span className="error-text" id={deptErrId}>
              {shown.departments}
            </span>
          )}
        </fieldset>
        <ErrorBanner error={save.error} />
      </form>
    </Dialog>
  );
}

function ActiveToggle({ user, isSelf, onClose }: { user: User; isSelf: boolean; onClose: () => void }) {
  return (
    <ToggleActiveDialog
      title={user.active ? `Deactivate ${user.username}?` : `Reactivate ${user.username}?`}
      confirmLabel={user.active ? "Deactivate" : "Reactivate"}
      danger={user.active}
      run={() => setUserActive(user.id, !user.active)}
      invalidate={keys.users}
      onClose={onClose}
    >
      <p>
        {user.active
          ? "They can no longer sign in, and every session they have open ends now. Their history is kept."
          : "They can sign in again with their current password."}
      </p>
      {isSelf && user.active && <p className="banner warn">This is you: you will be signed out.</p>}
    </ToggleActiveDialog>
  );
}
