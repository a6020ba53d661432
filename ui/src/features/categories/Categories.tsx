// Masters › Categories: the disposition categories offered per department
// (a provider) or in every department (global).
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { createCategory, setCategoryActive, updateCategory, useAllCategories } from "./queries";
import { useProviders } from "../providers/queries";
import type { Category, CategoryPatch, NewCategory } from "../../api/types";
import { Dialog } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { Field } from "../../components/Field";
import { ToggleActiveDialog } from "../../components/ConfirmDialog";
import { validateCategory, type CategoryDraft } from "./forms";

const GLOBAL = "";

export default function CategoriesPage() {
  const id = useId();
  const providers = useProviders(true);
  const categories = useAllCategories();
  const [department, setDepartment] = useState(GLOBAL);
  const [showRetired, setShowRetired] = useState(true);
  const [editing, setEditing] = useState<Category | "new" | null>(null);
  const [retiring, setRetiring] = useState<Category | null>(null);

  const provs = [...(providers.data?.data ?? [])].sort(
    (a, b) => a.display_order - b.display_order || a.name.localeCompare(b.name),
  );
  const deptName =
    department === GLOBAL ? "every department" : (provs.find((p) => p.slug === department)?.name ?? department);
  const all = categories.data?.data ?? [];
  const sort = (a: Category, b: Category) => a.display_order - b.display_order || a.name.localeCompare(b.name);
  const rows = all
    .filter((c) => (c.department ?? GLOBAL) === department)
    .filter((c) => showRetired || c.active)
    .sort(sort);
  const globals = department === GLOBAL ? [] : all.filter((c) => !c.department && c.active).sort(sort);

  return (
    <Page
      title="Categories"
      actions={
        <button type="button" className="primary" onClick={() => setEditing("new")}>
          Add category
        </button>
      }
    >
      <div className="row toolbar">
        <div className="field inline">
          <label htmlFor={`${id}-dept`}>Department</label>
          <select id={`${id}-dept`} value={department} onChange={(e) => setDepartment(e.target.value)}>
            <option value={GLOBAL}>Global (every department)</option>
            {provs.map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name}
                {p.active ? "" : " (inactive)"}
              </option>
            ))}
          </select>
        </div>
        <label className="check">
          <input type="checkbox" checked={showRetired} onChange={(e) => setShowRetired(e.target.checked)} />
          Show retired
        </label>
      </div>
      <ErrorBanner error={providers.error} onRetry={() => void providers.refetch()} />
      <ErrorBanner error={categories.error} onRetry={() => void categories.refetch()} />
      {categories.isPending ? (
        <p className="muted">Loading categories…</p>
      ) : rows.length === 0 ? (
        <p className="muted">
          {department === GLOBAL
            ? "No global categories."
            : `No categories of its own in ${deptName}: agents there choose from the global ones.`}
        </p>
      ) : (
        <table className="plain" data-testid="categories-table">
          <caption className="sr-only">Categories offered in {deptName}</caption>
          <thead>
            <tr>
              <th scope="col" className="num">
                Order
              </th>
              <th scope="col">Name</th>
              <th scope="col">Sub-categories</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id} className={c.active ? undefined : "inactive"} data-testid="category-row">
                <td className="num">{c.display_order}</td>
                <td>{c.name}</td>
                <td>{c.sub_categories.length ? c.sub_categories.join(", ") : <span className="muted">—</span>}</td>
                <td>
                  <span className={`state ${c.active ? "on" : "off"}`}>{c.active ? "Active" : "Retired"}</span>
                </td>
                <td className="actions">
                  <button type="button" aria-label={`Edit ${c.name}`} onClick={() => setEditing(c)}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className={c.active ? "danger" : undefined}
                    aria-label={`${c.active ? "Retire" : "Restore"} ${c.name}`}
                    onClick={() => setRetiring(c)}
                  >
                    {c.active ? "Retire" : "Restore"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {globals.length > 0 && (
        <p className="muted">
          Also offered in {deptName}, from the global list: {globals.map((c) => c.name).join(", ")}.
        </p>
      )}
      {editing && (
        <CategoryDialog
          category={editing === "new" ? null : editing}
          siblings={all.filter(
            (c) => (c.department ?? GLOBAL) === (editing === "new" ? department : (editing.department ?? GLOBAL)),
          )}
          department={department}
          departmentName={department === GLOBAL ? "Global (every department)" : deptName}
          onClose={() => setEditing(null)}
        />
      )}
      {retiring && <RetireDialog category={retiring} onClose={() => setRetiring(null)} />}
    </Page>
  );
}

function CategoryDialog({
  category,
  siblings,
  department,
  departmentName,
  onClose,
}: {
  category: Category | null;
  /** The other categories of the same department: names are unique there, retired ones included. */
  siblings: Category[];
  department: string;
  departmentName: string;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const formId = useId();
  const [draft, setDraft] = useState<CategoryDraft>(() => ({
    name: category?.name ?? "",
    subs: category?.sub_categories.join("\n") ?? "",
    order: category ? String(category.display_order) : "",
  }));
  const [submitted, setSubmitted] = useState(false);
  const v = validateCategory(draft);
  const clash = siblings.find((c) => c.id !== category?.id && c.name.toLowerCase() === v.name.toLowerCase());
  if (clash && !v.errors.name)
    v.errors.name = clash.active
      ? `There already is a category named “${clash.name}” here.`
      : `A retired category named “${clash.name}” exists here: close this and restore it instead.`;
  const shown = submitted ? v.errors : {};

  const save = useMutation({
    mutationFn: () => {
      if (category) {
        const patch: CategoryPatch = { name: v.name, sub_categories: v.subs, display_order: v.order ?? undefined };
        return updateCategory(category.id, patch);
      }
      const body: NewCategory = {
        name: v.name,
        department: department === GLOBAL ? null : department,
        sub_categories: v.subs,
        display_order: v.order ?? undefined,
      };
      return createCategory(body);
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.categories });
      onClose();
    },
  });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    setSubmitted(true);
    if (Object.keys(v.errors).length === 0) save.mutate();
  };

  const dept = category ? (category.department ?? "Global (every department)") : departmentName;
  return (
    <Dialog
      title={category ? `Edit category ${category.name}` : "New category"}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="primary" aria-disabled={save.isPending || undefined}>
            {category ? "Save changes" : "Create category"}
          </button>
        </>
      }
    >
      <form id={formId} className="stack" noValidate onSubmit={onSubmit}>
        <p className="muted">
          Department: <strong>{dept}</strong>
        </p>
        <Field label="Name" error={shown.name}>
          {(p) => (
            <input
              {...p}
              value={draft.name}
              maxLength={80}
              autoComplete="off"
              onChange={(e) => setDraft({ ...draft, name: e.target.value })}
            />
          )}
        </Field>
        <Field label="Sub-categories" error={shown.subs} hint="One per line, or separated by commas. Optional.">
          {(p) => (
            <textarea
              {...p}
              rows={4}
              value={draft.subs}
              onChange={(e) => setDraft({ ...draft, subs: e.target.value })}
            />
          )}
        </Field>
        <Field label="Display order" error={shown.order} hint="Lower comes first in the disposition form.">
          {(p) => (
            <input
              {...p}
              inputMode="numeric"
              value={draft.order}
              placeholder="0"
              onChange={(e) => setDraft({ ...draft, order: e.target.value })}
            />
          )}
        </Field>
        <ErrorBanner error={save.error} />
      </form>
    </Dialog>
  );
}

function RetireDialog({ category, onClose }: { category: Category; onClose: () => void }) {
  return (
    <ToggleActiveDialog
      title={category.active ? `Retire ${category.name}?` : `Restore ${category.name}?`}
      confirmLabel={category.active ? "Retire" : "Restore"}
      danger={category.active}
      run={() => setCategoryActive(category.id, !category.active)}
      invalidate={keys.categories}
      onClose={onClose}
    >
      <p>
        {category.active
          ? "It is no longer offered in the disposition form. Dispositions that used it keep it in their history."
          : "It is offered in the disposition form again."}
      </p>
    </ToggleActiveDialog>
  );
}
