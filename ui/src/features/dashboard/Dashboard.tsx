import { Link } from "react-router";
import { define } from "../../lib/glossary";
import { useStats } from "./queries";
import { ApiError } from "../../api/client";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { ConnectionIndicator } from "../../components/ConnectionIndicator";
import { counters, type Counters } from "../../lib/dashboard";
import { formatDuration, formatHHMM } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { useVisibleProviders } from "../../lib/useVisibleProviders";
import { worstLevel, type Level } from "../thresholds/model";
import { useThresholdStates } from "../thresholds/queries";
import { ThresholdTiles } from "../thresholds/ThresholdTiles";
import "../thresholds/thresholds.css";

const LEVEL_WORD: Record<Level, string> = { ok: "OK", amber: "Amber", red: "Red" };

/** The API field each card shows, for its definition (docs/METRICS.md). */
const FIELD: Partial<Record<keyof Counters, string>> = {
  missed: "missed_today",
  hangupPending: "hangup_today",
  slaBreached: "sla_breached",
  totalToday: "total_today",
  completed: "completed_today",
  failed: "failed_today",
  avgDuration: "avg_duration",
};

const CARDS: { key: keyof Counters; label: string; alert?: boolean; duration?: boolean }[] = [
  { key: "active", label: "Active" },
  { key: "waiting", label: "Waiting" },
  { key: "missed", label: "Missed today", alert: true },
  { key: "hangupPending", label: "Hangup pending", alert: true },
  { key: "slaBreached", label: "SLA breaches", alert: true },
  { key: "totalToday", label: "Total today" },
  { key: "completed", label: "Completed" },
  { key: "failed", label: "Failed" },
  { key: "avgDuration", label: "Average duration", duration: true },
];

function Cards({ c }: { c: Counters }) {
  return (
    <div className="cards">
      {CARDS.map((card) => {
        const v = c[card.key];
        return (
          <div
            key={card.key}
            className={`card${card.alert && v > 0 ? " alert" : ""}`}
            data-testid={`card-${card.key}`}
            title={define(FIELD[card.key] ?? "")}
          >
            <div className="label">{card.label}</div>
            <div className="value">{card.duration ? formatDuration(v) : v}</div>
          </div>
        );
      })}
    </div>
  );
}

/** A department's worst threshold level, in colour and in words. */
function ThresholdCell({ level, known }: { level: Level; known: boolean }) {
  if (!known) return <td className="muted">—</td>;
  return (
    <td data-testid="dept-level" data-level={level}>
      <span className={`row level-${level}`} style={{ gap: 4 }}>
        {level !== "ok" && <span className="level-dot" aria-hidden="true" />}
        {LEVEL_WORD[level]}
      </span>
    </td>
  );
}

function DepartmentTable({ links }: { links: boolean }) {
  const stats = useStats();
  const providers = useVisibleProviders();
  const states = useThresholdStates().data?.data;
  return (
    <table className="plain" aria-label="Per department">
      <thead>
        <tr>
          <th>Department</th>
          <th>Thresholds</th>
          {CARDS.map((c) => (
            <th key={c.key} className="num">
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {providers.map((p) => {
          const c = counters(stats.data, p.slug);
          return (
            <tr key={p.slug} data-slug={p.slug}>
              <td>{links ? <Link to={`/live/${p.slug}`}>{p.name}</Link> : p.name}</td>
              <ThresholdCell
                level={worstLevel(states, p.slug)}
                known={!!states?.some((x) => x.department === p.slug)}
              />
              {CARDS.map((card) => (
                <td key={card.key} className={`num${card.alert && c[card.key] > 0 ? " sla-breach" : ""}`}>
                  {card.duration ? formatDuration(c[card.key]) : c[card.key]}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function DashboardPage() {
  const stats = useStats();
  return (
    <Page
      title="Dashboard"
      actions={
        <a href="/dashboard?wallboard=1" target="_blank" rel="noreferrer">
          Open wallboard
        </a>
      }
    >
      <ErrorBanner error={stats.error} onRetry={() => void stats.refetch()} />
      <Cards c={counters(stats.data)} />
      <h2 style={{ margin: "8px 0 0", fontSize: 16 }}>By department</h2>
      <DepartmentTable links />
    </Page>
  );
}

/** How long figures may go without a successful refresh before the kiosk says they are stale. */
const KIOSK_STALE_MS = 30_000;

/**
 * The kiosk's freshness: when the figures were last read, and across the
 * whole screen when they are stale (the network or the server is down) or
 * the link no longer works, so a TV never shows old numbers as live.
 */
function KioskFreshness({ now }: { now: number }) {
  const stats = useStats();
  const updated = stats.dataUpdatedAt;
  const refused = stats.error instanceof ApiError && (stats.error.status === 401 || stats.error.status === 403);
  const stale = refused || (updated > 0 ? now - updated > KIOSK_STALE_MS : stats.isError);
  return (
    <>
      <span className="conn kiosk-updated" role="status" data-testid="kiosk-updated">
        {updated > 0 ? `Updated ${formatHHMM(new Date(updated))}` : "Loading…"}
      </span>
      {stale && (
        <div className="wallboard-stale" role="alert" data-testid="kiosk-stale">
          {refused
            ? "This wallboard link no longer works (revoked or expired): ask an admin for a new one."
            : `The figures are stale: last updated ${updated > 0 ? formatHHMM(new Date(updated)) : "never"}. Check the network.`}
        </div>
      )}
    </>
  );
}

/** Full screen, large numbers readable across a room, no controls. */
export function Wallboard({ kiosk = false }: { kiosk?: boolean }) {
  const stats = useStats();
  const providers = useVisibleProviders();
  const now = useNow(1000);
  return (
    <div className="wallboard" data-testid="wallboard">
      <h1>
        <span>Callboard</span>
        <span className="row" style={{ fontSize: "3vh", gap: "2vw" }}>
          {kiosk ? <KioskFreshness now={now} /> : <ConnectionIndicator />}
          <span>{formatHHMM(new Date(now))}</span>
        </span>
      </h1>
      {/* A kiosk says it across the screen instead (KioskFreshness). */}
      {stats.error && !kiosk ? <ErrorBanner error={stats.error} /> : null}
      <ThresholdTiles department="all" providers={providers} />
      <Cards c={counters(stats.data)} />
      <DepartmentTable links={false} />
    </div>
  );
}
