// One department's thresholds: per figure, the value now, amber and red
// levels, the rolling window and the quiet period.
import type { Provider } from "../../api/types";
import {
  EMPTY_ROW,
  formatValue,
  inputUnit,
  METRICS,
  rowKey,
  type Drafts,
  type RowDraft,
  type RowErrors,
  type ThresholdState,
} from "./model";

function LevelInput({
  label,
  value,
  error,
  unit,
  onChange,
}: {
  label: string;
  value: string;
  error?: string;
  unit: string;
  onChange: (v: string) => void;
}) {
  return (
    <div className="stack" style={{ gap: 2 }}>
      <span className="row" style={{ gap: 4, flexWrap: "nowrap" }}>
        <input
          aria-label={label}
          inputMode="decimal"
          value={value}
          aria-invalid={error ? true : undefined}
          onChange={(e) => onChange(e.target.value)}
        />
        <span className="muted small">{unit}</span>
      </span>
      {error && <span className="error-text">{error}</span>}
    </div>
  );
}

export function LevelsTable({
  provider,
  drafts,
  errors,
  states,
  onChange,
}: {
  provider: Provider;
  drafts: Drafts;
  errors: Record<string, RowErrors>;
  states: readonly ThresholdState[];
  onChange: (key: string, next: RowDraft) => void;
}) {
  const headId = `levels-${provider.slug}`;
  return (
    <section className="card stack" aria-labelledby={headId} data-testid={`levels-${provider.slug}`}>
      <h3 id={headId}>{provider.name}</h3>
      <div
        className="table-scroll"
        tabIndex={0}
        role="region"
        aria-label={`${provider.name} levels (scrolls sideways)`}
      >
        <table className="plain thresholds-table">
          <thead>
            <tr>
              <th scope="col">Figure</th>
              <th scope="col">Now</th>
              <th scope="col">Amber at</th>
              <th scope="col">Red at</th>
              <th scope="col">Window (min)</th>
              <th scope="col">Quiet period (min)</th>
            </tr>
          </thead>
          <tbody>
            {METRICS.map((m) => {
              const key = rowKey(provider.slug, m.metric);
              const d = drafts[key] ?? EMPTY_ROW;
              const e = errors[key] ?? {};
              const set = (patch: Partial<RowDraft>) => onChange(key, { ...d, ...patch });
              const state = states.find((s) => s.department === provider.slug && s.metric === m.metric);
              const name = `${provider.name} · ${m.label}`;
              return (
                <tr key={m.metric} data-metric={m.metric}>
                  <th scope="row">
                    {m.label}
                    {m.lowerIsWorse && <div className="hint">Alerts at or below the level.</div>}
                  </th>
                  <td>
                    {state ? (
                      <span className={`row level-${state.level}`} style={{ gap: 4 }}>
                        {state.level !== "ok" && <span className="level-dot" aria-hidden="true" />}
                        {formatValue(m.metric, state.value)}
                        {state.level !== "ok" && <span>({state.level})</span>}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>
                    <LevelInput
                      label={`${name} · amber`}
                      value={d.amber}
                      error={e.amber}
                      unit={inputUnit(m.metric)}
                      onChange={(amber) => set({ amber })}
                    />
                  </td>
                  <td>
                    <LevelInput
                      label={`${name} · red`}
                      value={d.red}
                      error={e.red}
                      unit={inputUnit(m.metric)}
                      onChange={(red) => set({ red })}
                    />
                  </td>
                  <td>
                    {m.windowed ? (
                      <LevelInput
                        label={`${name} · window`}
                        value={d.window}
                        error={e.window}
                        unit="min"
                        onChange={(window) => set({ window })}
                      />
                    ) : (
                      <span className="muted">now</span>
                    )}
                  </td>
                  <td>
                    <LevelInput
                      label={`${name} · quiet period`}
                      value={d.quiet}
                      error={e.quiet}
                      unit="min"
                      onChange={(quiet) => set({ quiet })}
                    />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
