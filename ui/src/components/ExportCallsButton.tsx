// "Download CSV" for the calls a screen lists, with its filters.
import { useState } from "react";
import { downloadCallsCsv, type ExportQuery } from "../features/calls/export";
import { errorText } from "../api/errors";

export function ExportCallsButton({
  query,
  label = "Download CSV",
  testId = "export-list",
}: {
  query: ExportQuery;
  label?: string;
  testId?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await downloadCallsCsv(query);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" onClick={() => void run()} aria-disabled={busy || undefined} data-testid={testId}>
        {busy ? "Downloading…" : label}
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
