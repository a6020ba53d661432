// The latest crossings and what became of each (sent, failed, suppressed…).
import { formatWhen, titleCase } from "../../lib/format";
import type { Provider } from "../../api/types";
import { providerName } from "../../lib/useVisibleProviders";
import { ErrorBanner } from "../../components/ErrorBanner";
import { formatValue, metricInfo } from "./model";
import { useAlerts } from "./queries";

export function AlertLog({ providers }: { providers: Provider[] }) {
  const alerts = useAlerts();
  const rows = alerts.data?.data ?? [];
  return (
    <section className="stack" aria-labelledby="alert-log-h">
      <h2 id="alert-log-h" className="section-title">
        Recent alerts
      </h2>
      <ErrorBanner error={alerts.error} onRetry={() => void alerts.refetch()} />
      {rows.length === 0 ? (
        <p className="muted">{alerts.isPending ? "Loading…" : "No threshold has been crossed yet."}</p>
      ) : (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Recent alerts (scrolls sideways)">
          <table className="plain" data-testid="alert-log">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Department</th>
                <th scope="col">Figure</th>
                <th scope="col">Level</th>
                <th scope="col">Value</th>
                <th scope="col">Sent</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id} data-level={a.level}>
                  <td>{formatWhen(a.at)}</td>
                  <td>{providerName(providers, a.department)}</td>
                  <td>{metricInfo(a.metric).label}</td>
                  <td>
                    <span className={`row level-${a.level}`} style={{ gap: 4 }}>
                      <span className="level-dot" aria-hidden="true" />
                      {titleCase(a.level)}
                    </span>
                  </td>
                  <td>{formatValue(a.metric, a.value)}</td>
                  <td>{titleCase(a.status)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
