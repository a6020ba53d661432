import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { keys } from "../../api/keys";
import { disposeCall, refreshAfterCallWrite } from "./queries";
import { useCategories } from "../categories/queries";
import { isQueued } from "../replica/queries";
import { OUTCOMES, type Call, type Outcome } from "../../api/types";
import { titleCase } from "../../lib/format";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";

interface Errors {
  category?: string;
  next_callback_at?: string;
  form?: string;
}

/** Local datetime-local value → RFC 3339 (UTC). */
function toIso(local: string): string | null {
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

export function validateDisposition(v: { category: string; outcome: Outcome; next: string }, now = Date.now()): Errors {
  const e: Errors = {};
  if (!v.category) e.category = "Choose a category.";
  if (v.outcome === "callback") {
    if (!v.next) e.next_callback_at = "A callback needs a time.";
    else {
      const iso = toIso(v.next);
      if (!iso) e.next_callback_at = "That is not a valid date and time.";
      else if (Date.parse(iso) < now - 60_000) e.next_callback_at = "The callback time is in the past.";
    }
  }
  return e;
}

export function DispositionForm({
  call,
  onSaved,
  autoFocus,
}: {
  call: Call;
  onSaved?: () => void;
  autoFocus?: boolean;
}) {
  const qc = useQueryClient();
  const categories = useCategories(call.department);
  // A department's own category hides a global one of the same name.
  const active = useMemo(() => {
    const live = (categories.data?.data ?? []).filter((c) => c.active);
    const own = new Set(live.filter((c) => c.department).map((c) => c.name));
    return live.filter((c) => c.department || !own.has(c.name));
  }, [categories.data]);
  const [category, setCategory] = useState("");
  const [sub, setSub] = useState("");
  const [notes, setNotes] = useState("");
  const [outcome, setOutcome] = useState<Outcome>("resolved");
  const [next, setNext] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [queued, setQueued] = useState(false);
  const subs = active.find((c) => c.name === category)?.sub_categories ?? [];

  const save = useMutation({
    mutationFn: () =>
      disposeCall(call.call_id, call.department, {
        category,
        sub_category: sub || null,
        notes: notes.trim() || null,
        outcome,
        next_callback_at: outcome === "callback" ? toIso(next) : null,
        expected_version: call.version,
      }),
    onSuccess: (saved) => {
      // A replica that cannot reach the receiver queues the disposition.
      setQueued(isQueued(saved));
      setCategory("");
      setSub("");
      setNotes("");
      setNext("");
      setErrors({});
      refreshAfterCallWrite(qc, call.department, call.call_id);
      onSaved?.();
    },
    onError: (e) => {
      setQueued(false);
      if (e instanceof ApiError && e.status === 409) {
        void qc.invalidateQueries({ queryKey: keys.call(call.department, call.call_id) });
      }
      setErrors({ form: e.message });
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = validateDisposition({ category, outcome, next });
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  };

  return (
    <form
      className="stack"
      onSubmit={submit}
      aria-label="Disposition"
      noValidate
      data-testid="disposition-form"
      onKeyDown={(e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit(e);
      }}
    >
      <div className="grid2">
        <Field
          label="Category"
          error={errors.category}
          hint={
            categories.isSuccess && active.length === 0
              ? "No categories for this department yet: an admin adds them in Masters → Categories."
              : undefined
          }
        >
          {(p) => (
            <select
              {...p}
              autoFocus={autoFocus}
              value={category}
              onChange={(e) => {
                setCategory(e.target.value);
                setSub("");
                setErrors((prev) => ({ ...prev, category: undefined }));
              }}
            >
              <option value="">Choose…</option>
              {active.map((c) => (
                <option key={c.id} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Sub-category">
          {(p) => (
            <select {...p} value={sub} onChange={(e) => setSub(e.target.value)} disabled={subs.length === 0}>
              <option value="">{subs.length ? "Choose…" : "None"}</option>
              {subs.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Outcome">
          {(p) => (
            <select
              {...p}
              value={outcome}
              onChange={(e) => {
                setOutcome(e.target.value as Outcome);
                setErrors((prev) => ({ ...prev, next_callback_at: undefined }));
              }}
            >
              {OUTCOMES.map((o) => (
                <option key={o} value={o}>
                  {titleCase(o)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Next callback" error={errors.next_callback_at}>
          {(p) => (
            <input
              {...p}
              type="datetime-local"
              value={next}
              disabled={outcome !== "callback"}
              onChange={(e) => {
                setNext(e.target.value);
                setErrors((prev) => ({ ...prev, next_callback_at: undefined }));
              }}
            />
          )}
        </Field>
      </div>
      <Field label="Notes">
        {(p) => <textarea {...p} rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} maxLength={4000} />}
      </Field>
      <ErrorBanner error={errors.form} />
      {queued && (
        <p className="muted" role="status" data-testid="disposition-queued">
          Queued: the receiver is unreachable; this disposition is sent as soon as it is back.
        </p>
      )}
      <div className="row">
        <button className="primary" type="submit" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save disposition"}
        </button>
        <span className="muted">
          <span className="kbd">Ctrl</span>+<span className="kbd">Enter</span> saves
        </span>
      </div>
    </form>
  );
}
