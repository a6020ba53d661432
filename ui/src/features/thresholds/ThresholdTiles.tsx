// The thresholds of the department in view as tiles: the figure now, its
// level in colour and in words, so a supervisor sees what needs attention.
import type { Provider } from "../../api/types";
import { providerName } from "../../lib/useVisibleProviders";
import { formatValue, metricInfo, METRICS, type ThresholdState } from "./model";
import { useThresholdStates } from "./queries";
import "./thresholds.css";

const ORDER = new Map(METRICS.map((m, i) => [m.metric, i]));
const RANK = { red: 0, amber: 1, ok: 2 } as const;

/** Worst first, then department and figure order. */
export function tileOrder(states: readonly ThresholdState[]): ThresholdState[] {
  return [...states].sort(
    (a, b) =>
      RANK[a.level] - RANK[b.level] ||
      a.department.localeCompare(b.department) ||
      (ORDER.get(a.metric) ?? 0) - (ORDER.get(b.metric) ?? 0),
  );
}

export function ThresholdTiles({ department, providers }: { department: string; providers: Provider[] }) {
  const states = useThresholdStates();
  const visible = new Set(providers.map((p) => p.slug));
  const rows = tileOrder(
    (states.data?.data ?? []).filter((s) =>
      department === "all" ? visible.has(s.department) : s.department === department,
    ),
  );
  if (rows.length === 0) return null;
  return (
    <ul className="threshold-tiles" aria-label="Thresholds" data-testid="threshold-tiles">
      {rows.map((s) => {
        const info = metricInfo(s.metric);
        return (
          <li
            key={`${s.department}/${s.metric}`}
            className={`threshold-tile level-${s.level}`}
            data-testid="threshold-tile"
            data-department={s.department}
            data-metric={s.metric}
            data-level={s.level}
          >
            <div className="label">
              {department === "all" ? `${providerName(providers, s.department)} · ` : ""}
              {info.label}
            </div>
            <div className="value">
              {formatValue(s.metric, s.value)}{" "}
              <span className="label">{s.level === "ok" ? "OK" : s.level === "red" ? "Red" : "Amber"}</span>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
