// Flow analytics: per node, how many calls reached it, where they went next
// (exits by edge), how many hung up there and how long they spent; and the
// funnel from the entry to an agent.
import { useState } from "react";
import { Link } from "react-router";
import { Page } from "../../components/Page";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { formatDuration } from "../../lib/format";
import { useFlow, useFlowAnalytics, type FlowId, type NodeStats } from "./api";
import { infoOf, outputsOf } from "./model";

const RANGES = [
  ["1", "Today"],
  ["7", "7 days"],
  ["30", "30 days"],
] as const;

function since(days: number): string {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - (days - 1));
  return d.toISOString();
}

export function pct(n: number, of: number): string {
  if (!of) return "—";
  return `${Math.round((n / of) * 1000) / 10}%`;
}

function avgSeconds(s: NodeStats): number | null {
  return typeof s.avg_seconds === "number" ? s.avg_seconds : null;
}

const STAGES: Record<string, string> = {
  entry: "Entered the flow",
  menu: "Reached a menu",
  queue: "Queued or transferred",
  agent: "Talked to an agent",
};

/** Exits by edge, most taken first: `options.1 → sales_queue: 50`. */
export function exitsText(exits: Record<string, number>, targetOf: (edge: string) => string | null): string {
  const list = Object.entries(exits).sort((a, b) => b[1] - a[1]);
  if (!list.length) return "—";
  return list
    .map(([edge, n]) => {
      const t = targetOf(edge);
      return `${edge}${t ? ` → ${t}` : ""}: ${n}`;
    })
    .join(" · ");
}

export function FlowAnalyticsPage({ id }: { id: FlowId }) {
  const [days, setDays] = useState<string>("7");
  const [range] = useState(() => ({ to: new Date(Date.now() + 60_000).toISOString() }));
  const flow = useFlow(id);
  const q = useFlowAnalytics(id, { from: since(Number(days)), to: range.to });
  const a = q.data;
  const nodes = [...(a?.nodes ?? [])].sort((x, y) => y.visits - x.visits);
  const entryCalls = a?.funnel[0]?.calls ?? 0;
  const typeOf = (n: string) => flow.data?.nodes.find((x) => x.id === n)?.type ?? "";
  const targetOf = (n: string, edge: string) => {
    const node = flow.data?.nodes.find((x) => x.id === n);
    return (node && outputsOf(node).find((o) => o.handle === edge)?.target) ?? null;
  };

  return (
    <Page
      title={`Flow analytics · ${flow.data?.name ?? ""}`}
      actions={
        <>
          <Link to="/flows">← All flows</Link>
          <Link to={`/flows/${encodeURIComponent(String(id))}`}>Open the flow</Link>
          <span className="grow" />
          <Field label="Range" className="inline">
            {(p) => (
              <select {...p} value={days} onChange={(e) => setDays(e.target.value)}>
                {RANGES.map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </>
      }
    >
      <ErrorBanner error={q.error ?? flow.error} onRetry={() => void q.refetch()} />
      {q.isPending && <p className="muted">Loading…</p>}
      {a && (
        <div className="stack">
          <section className="card stack" aria-labelledby="funnel-h" data-testid="flow-funnel">
            <h2 id="funnel-h">Funnel</h2>
            {a.funnel.length === 0 || entryCalls === 0 ? (
              <p className="muted">No calls went through this flow in the range.</p>
            ) : (
              <ol className="ivr-funnel">
                {a.funnel.map((f) => (
                  <li key={f.stage}>
                    <span className="ivr-funnel-label">{STAGES[f.stage] ?? f.stage}</span>
                    <span className="ivr-funnel-bar" aria-hidden="true">
                      <span style={{ width: `${entryCalls ? (f.calls / entryCalls) * 100 : 0}%` }} />
                    </span>
                    <span className="num">
                      {f.calls} <span className="muted small">({pct(f.calls, entryCalls)})</span>
                    </span>
                  </li>
                ))}
              </ol>
            )}
            {a.exit_reasons && Object.keys(a.exit_reasons).length > 0 && (
              <p className="small">
                Exit reasons:{" "}
                {Object.entries(a.exit_reasons)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(" · ")}
              </p>
            )}
          </section>
          <section className="card stack" aria-labelledby="nodes-h">
            <h2 id="nodes-h">Per node</h2>
            <div className="table-scroll">
              <table className="plain" data-testid="flow-node-stats">
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col" className="num">
                      Visits
                    </th>
                    <th scope="col" className="num">
                      Hang-ups here
                    </th>
                    <th scope="col" className="num">
                      Avg. time
                    </th>
                    <th scope="col">Exits by edge</th>
                  </tr>
                </thead>
                <tbody>
                  {nodes.map((s) => {
                    const avg = avgSeconds(s);
                    const t = s.type ?? typeOf(s.node);
                    return (
                      <tr key={s.node} data-node={s.node}>
                        <td>
                          <span aria-hidden="true">{infoOf(t).glyph}</span> <span className="mono">{s.node}</span>{" "}
                          <span className="muted small">{infoOf(t).label}</span>
                        </td>
                        <td className="num">{s.visits}</td>
                        <td className="num">
                          {s.hangups} <span className="muted small">{pct(s.hangups, s.visits)}</span>
                        </td>
                        <td className="num">{avg === null ? "—" : formatDuration(Math.round(avg))}</td>
                        <td className="small">{exitsText(s.exits, (edge) => targetOf(s.node, edge))}</td>
                      </tr>
                    );
                  })}
                  {nodes.length === 0 && (
                    <tr>
                      <td colSpan={5} className="muted">
                        No visits in the range.
                      </td>
                    </tr>
                  )}
                </tbody>
              </table>
            </div>
          </section>
        </div>
      )}
    </Page>
  );
}
