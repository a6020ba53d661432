// The analytics screen: a date range and a department, KPI tiles, volume and
// service-level charts, per-department figures, agent performance and calls
// grouped by agent; "Export CSV" writes exactly these tables, and "Download
// calls" fetches the server's CSV export of the calls behind them.
import { useMemo, useState } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { useAgentCalls, useAgentMetrics, useMetrics, type MetricsFilter } from "./queries";
import type { AgentCalls, AgentMetricsReport, MetricsReport } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { ExportCallsButton } from "../../components/ExportCallsButton";
import { Page } from "../../components/Page";
import {
  bucketLabel,
  dateInput,
  intervalFor,
  pct,
  rangeFor,
  secs,
  toCsv,
  utcOffsetMinutes,
  browserTimeZone,
  type Preset,
  type Table,
} from "./model";
import { download } from "../../lib/download";
import { define } from "../../lib/glossary";
import { formatWhen } from "../../lib/format";
import { providerName, useVisibleProviders } from "../../lib/useVisibleProviders";

const PRESETS: [Preset, string][] = [
  ["today", "Today"],
  ["7d", "7 days"],
  ["30d", "30 days"],
  ["custom", "Custom"],
];

type Tile = { key: string; label: string; value: string };

function tiles(r: MetricsReport): Tile[] {
  const o = r.overall;
  return [
    { key: "offered", label: "Offered", value: String(o.offered) },
    { key: "answered", label: "Answered", value: String(o.answered) },
    { key: "abandoned", label: "Abandoned", value: String(o.abandoned) },
    {
      key: "short_abandoned",
      label: `Short abandons (< ${r.short_abandon_seconds} s)`,
      value: String(o.short_abandoned),
    },
    { key: "abandon_rate", label: "Abandon rate", value: pct(o.abandon_rate) },
    { key: "service_level", label: `Service level (${r.sl_seconds} s)`, value: pct(o.service_level) },
    { key: "asa_seconds", label: "Average speed of answer", value: secs(o.asa_seconds) },
    { key: "aht_seconds", label: "Average handle time", value: secs(o.aht_seconds) },
    {
      key: "longest_current_wait_seconds",
      label: "Longest current wait",
      value: o.longest_current_wait_seconds == null ? "—" : `${o.longest_current_wait_seconds} s`,
    },
    {
      key: "callbacks_attempted",
      label: "Callbacks attempted",
      value: `${o.callbacks_attempted} of ${o.callbacks_due}`,
    },
    { key: "callbacks_resolved", label: "Callbacks resolved", value: String(o.callbacks_resolved) },
    { key: "callback_sla_compliance", label: "Callback SLA met", value: pct(o.callback_sla_compliance) },
  ];
}

function departmentTable(r: MetricsReport, name: (slug: string) => string): Table {
  return {
    title: "Departments",
    header: [
      "Department",
      "Offered",
      "Answered",
      "Abandoned",
      "Short abandons",
      "Abandon rate",
      "Service level",
      "ASA",
      "AHT",
      "Callbacks attempted",
      "Callbacks resolved",
      "Callback SLA met",
    ],
    rows: r.departments.map((d) => [
      name(d.department),
      d.offered,
      d.answered,
      d.abandoned,
      d.short_abandoned,
      pct(d.abandon_rate),
      pct(d.service_level),
      secs(d.asa_seconds),
      secs(d.aht_seconds),
      d.callbacks_attempted,
      d.callbacks_resolved,
      pct(d.callback_sla_compliance),
    ]),
  };
}

function dispositionsText(d: Record<string, number>): string {
  return Object.entries(d)
    .map(([k, n]) => `${k}: ${n}`)
    .join("; ");
}

function agentTable(r: AgentMetricsReport): Table {
  return {
    title: "Agent performance",
    header: [
      "Agent",
      "Calls handled",
      "Average handle time",
      "Dispositions",
      "Callbacks attempted",
      "Callbacks resolved",
      "Callback success",
    ],
    rows: r.agents.map((a) => [
      a.agent,
      a.calls_handled,
      secs(a.aht_seconds),
      dispositionsText(a.dispositions),
      a.callbacks_attempted,
      a.callbacks_resolved,
      pct(a.callback_success_rate),
    ]),
  };
}

function groupedTable(r: AgentCalls): Table {
  return {
    title: "Calls by agent",
    header: ["Agent", "Name", "Calls", "Average duration", "Completed", "Total minutes", "Last call"],
    rows: r.data.map((a) => [
      a.agentId,
      a.agentName ?? "",
      a.calls,
      secs(a.avgDurationSec),
      pct(a.completedRate),
      a.totalDurationMin,
      a.lastCall ? formatWhen(a.lastCall) : "",
    ]),
  };
}

function TableView({ table, testId }: { table: Table; testId: string }) {
  const headingId = `${testId}-title`;
  return (
    <section className="analytics-section" aria-labelledby={headingId}>
      <h2 id={headingId}>{table.title}</h2>
      {table.rows.length === 0 ? (
        <p className="muted">Nothing in this range.</p>
      ) : (
        <div className="table-scroll">
          <table className="plain" aria-labelledby={headingId} data-testid={testId}>
            <thead>
              <tr>
                {table.header.map((h, i) => (
                  <th key={h} className={i > 0 ? "num" : undefined}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (
                    <td key={j} className={typeof c === "number" ? "num" : undefined}>
                      {c}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Charts({ report, interval }: { report: MetricsReport; interval: "hour" | "day" }) {
  const buckets = (interval === "hour" ? report.series.hourly : report.series.daily) ?? [];
  const data = buckets.map((b) => ({
    label: bucketLabel(b.start, interval),
    Offered: b.offered,
    Answered: b.answered,
    Abandoned: b.abandoned,
    "Service level %": b.service_level == null ? null : Math.round(b.service_level * 1000) / 10,
  }));
  const per = interval === "hour" ? "hour" : "day";
  return (
    <div className="analytics-charts">
      <figure className="chart" data-testid="chart-volume">
        <figcaption>Volume per {per}</figcaption>
        <div role="img" aria-label={`Offered, answered and abandoned calls per ${per}`}>
          <ResponsiveContainer width="100%" height={240}>
            <BarChart data={data} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="label" stroke="var(--muted)" fontSize={12} />
              <YAxis allowDecimals={false} stroke="var(--muted)" fontSize={12} />
              <Tooltip contentStyle={{ background: "var(--panel)", borderColor: "var(--border)" }} />
              <Legend />
              <Bar dataKey="Offered" fill="var(--chart-1)" isAnimationActive={false} />
              <Bar dataKey="Answered" fill="var(--chart-2)" isAnimationActive={false} />
              <Bar dataKey="Abandoned" fill="var(--chart-3)" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </figure>
      <figure className="chart" data-testid="chart-service-level">
        <figcaption>
          Service level per {per} (answered within {report.sl_seconds} s)
        </figcaption>
        <div role="img" aria-label={`Service level per ${per}, percent`}>
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={data} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="label" stroke="var(--muted)" fontSize={12} />
              <YAxis domain={[0, 100]} unit="%" stroke="var(--muted)" fontSize={12} />
              <Tooltip contentStyle={{ background: "var(--panel)", borderColor: "var(--border)" }} />
              <Line
                dataKey="Service level %"
                stroke="var(--chart-2)"
                strokeWidth={2}
                connectNulls
                dot={false}
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </figure>
    </div>
  );
}

export default function AnalyticsPage() {
  const providers = useVisibleProviders();
  const [preset, setPreset] = useState<Preset>("today");
  const [customFrom, setCustomFrom] = useState(() => dateInput(new Date()));
  const [customTo, setCustomTo] = useState(() => dateInput(new Date()));
  const [department, setDepartment] = useState("all");

  const filter = useMemo<MetricsFilter | null>(() => {
    const r = rangeFor(preset, new Date(), customFrom, customTo);
    if (!r) return null;
    return {
      ...r,
      department: department === "all" ? undefined : department,
      interval: intervalFor(r),
      utcOffsetMinutes: utcOffsetMinutes(r.from),
      timeZone: browserTimeZone(),
    };
  }, [preset, customFrom, customTo, department]);

  const metrics = useMetrics(filter);
  const agents = useAgentMetrics(filter);
  const grouped = useAgentCalls(filter);
  const name = (slug: string) => providerName(providers, slug);

  const tables: Table[] = [];
  if (metrics.data) {
    tables.push({
      title: "Summary",
      header: ["Measure", "Value"],
      rows: tiles(metrics.data).map((t) => [t.label, t.value]),
    });
    tables.push(departmentTable(metrics.data, name));
  }
  if (agents.data) tables.push(agentTable(agents.data));
  if (grouped.data) tables.push(groupedTable(grouped.data));

  const exportScreen = () => {
    if (!filter) return;
    const scope = department === "all" ? "all" : department;
    const day = (iso: string) => dateInput(new Date(iso));
    const csv = "\uFEFF" + toCsv(tables);
    download(
      new Blob([csv], { type: "text/csv;charset=utf-8" }),
      `analytics-${scope}-${day(filter.from)}-${day(new Date(Date.parse(filter.to) - 1).toISOString())}.csv`,
    );
  };

  return (
    <Page
      title="Analytics"
      actions={
        <>
          <button onClick={exportScreen} disabled={!metrics.data} data-testid="export-screen">
            Export CSV
          </button>
          {filter && (
            // `time=offered`: the calls the figures count, by the same time.
            <ExportCallsButton
              query={{ from: filter.from, to: filter.to, time: "offered", department: filter.department }}
              label="Download calls (CSV)"
              testId="export-calls"
            />
          )}
        </>
      }
    >
      <form className="analytics-filters row" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <div className="segmented" role="group" aria-label="Date range">
          {PRESETS.map(([p, label]) => (
            <button
              key={p}
              type="button"
              aria-pressed={preset === p}
              onClick={() => setPreset(p)}
              data-testid={`range-${p}`}
            >
              {label}
            </button>
          ))}
        </div>
        {preset === "custom" && (
          <>
            <label>
              From{" "}
              <input
                type="date"
                value={customFrom}
                onChange={(e) => setCustomFrom(e.target.value)}
                data-testid="custom-from"
              />
            </label>
            <label>
              To{" "}
              <input
                type="date"
                value={customTo}
                onChange={(e) => setCustomTo(e.target.value)}
                data-testid="custom-to"
              />
            </label>
          </>
        )}
        <label>
          Department{" "}
          <select value={department} onChange={(e) => setDepartment(e.target.value)} data-testid="department">
            <option value="all">All departments</option>
            {providers.map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      </form>
      {!filter && <p className="banner error">Choose a start date on or before the end date.</p>}
      <ErrorBanner error={metrics.error ?? agents.error ?? grouped.error} />
      {metrics.data && (
        <>
          <div className="cards" data-testid="kpis">
            {tiles(metrics.data).map((t) => (
              <div key={t.key} className="card" data-testid={`kpi-${t.key}`} title={define(t.key)}>
                <div className="label">{t.label}</div>
                <div className="value">{t.value}</div>
              </div>
            ))}
          </div>
          <Charts report={metrics.data} interval={filter?.interval ?? "hour"} />
          <TableView table={departmentTable(metrics.data, name)} testId="departments" />
        </>
      )}
      {agents.data && <TableView table={agentTable(agents.data)} testId="agents" />}
      {grouped.data && <TableView table={groupedTable(grouped.data)} testId="agent-calls" />}
      {metrics.isPending && filter && <p className="muted">Loading…</p>}
    </Page>
  );
}
