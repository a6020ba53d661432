// Masters › Retention › Archive: how much is kept live and archived, and a
// period of archived calls downloaded as CSV (for an audit, a dispute, a
// report on last year) — the calls the screens no longer show.
import { useState, type FormEvent } from "react";
import { errorText } from "../../api/errors";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { localMidnight } from "../../lib/days";
import { useVisibleProviders } from "../../lib/useVisibleProviders";
import { archiveSummary, downloadArchivedCalls, useArchiveTotals } from "./archive";

export function ArchivePanel() {
  const totals = useArchiveTotals();
  const providers = useVisibleProviders();
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [department, setDepartment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const backwards = from !== "" && to !== "" && to < from;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (backwards) return;
    setBusy(true);
    setError(null);
    try {
      await downloadArchivedCalls({
        department: department || undefined,
        from: localMidnight(from),
        to: localMidnight(to, 1),
      });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const summary = totals.data ? archiveSummary(totals.data) : null;
  const nothing = totals.data?.calls_archived === 0;
  return (
    <section className="panel stack" aria-labelledby="archive-title" data-testid="archive">
      <h2 id="archive-title">Archive</h2>
      <ErrorBanner error={totals.error} onRetry={() => void totals.refetch()} />
      {summary && (
        <div data-testid="archive-totals">
          <p>{summary.live}.</p>
          <p>{summary.archived}</p>
        </div>
      )}
      <form className="archive-export" onSubmit={(e) => void submit(e)} aria-label="Download archived calls">
        <Field label="Created from">
          {(p) => <input {...p} type="date" value={from} onChange={(e) => setFrom(e.target.value)} />}
        </Field>
        <Field label="to (included)" error={backwards ? "The last day comes before the first." : null}>
          {(p) => <input {...p} type="date" value={to} onChange={(e) => setTo(e.target.value)} />}
        </Field>
        <Field label="Department">
          {(p) => (
            <select {...p} value={department} onChange={(e) => setDepartment(e.target.value)}>
              <option value="">All</option>
              {providers.map((d) => (
                <option key={d.slug} value={d.slug}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy || backwards || nothing} data-testid="archive-download">
          {busy ? "Downloading…" : "Download archived calls (CSV)"}
        </button>
      </form>
      <p className="muted">
        Every archived call of the period, oldest first: as it was when archived, who had it, and its last disposition.
        Each download is recorded in the audit log.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
