import { useId, useState } from "react";
import { NavLink, useLocation } from "react-router";
import { inDesktop } from "../desktop/bridge";
import { useStats } from "../features/dashboard/queries";
import type { ReactNode } from "react";
import type { Provider } from "../api/types";
import { liveCount, pendingCount } from "../lib/dashboard";
import { useVisibleProviders } from "../lib/useVisibleProviders";
import { iconGlyph } from "../lib/icons";
import { useSession } from "../session";
import { worstLevel, type Level } from "../features/thresholds/model";
import { useThresholdStates } from "../features/thresholds/queries";
import "../features/thresholds/thresholds.css";

function Badge({ n, label, hot, level = "ok" }: { n: number; label: string; hot?: boolean; level?: Level }) {
  const cls = level !== "ok" ? ` level-${level}` : hot && n > 0 ? " hot" : "";
  const alert = level !== "ok" ? `, ${level} alert` : "";
  return (
    <span className={`badge${cls}`} aria-label={`${n} ${label}${alert}`} data-testid="badge" data-level={level}>
      {n}
    </span>
  );
}

const MASTERS: [string, string, string][] = [
  ["/masters/providers", "🔌", "Providers"],
  ["/masters/categories", "🏷", "Categories"],
  ["/masters/users", "👥", "Users"],
  ["/masters/dialpad-users", "🔗", "Dialpad users"],
  ["/masters/access", "🔑", "Access"],
  ["/masters/retention", "🗄", "Retention"],
  ["/masters/audit", "📜", "Audit log"],
];

/** A queue's entries: All, then one per department, each with its badge. */
function QueueNav({
  id,
  title,
  allIcon,
  providers,
  badge,
}: {
  id: string;
  title: string;
  allIcon: string;
  providers: Provider[];
  badge: (slug?: string) => ReactNode;
}) {
  const entries: { slug: string; name: string; glyph: string; key?: string }[] = [
    { slug: "all", name: "All", glyph: allIcon },
    ...providers.map((p) => ({ slug: p.slug, name: p.name, glyph: iconGlyph(p.icon), key: p.slug })),
  ];
  return (
    <>
      <h2 id={`nav-${id}-title`}>{title}</h2>
      <ul aria-labelledby={`nav-${id}-title`} data-testid={`nav-${id}`}>
        {entries.map((e) => (
          <li key={e.slug}>
            <NavLink to={`/${id}/${e.slug}`} data-slug={e.key}>
              <span className="icon" aria-hidden="true">
                {e.glyph}
              </span>
              {e.name}
              {badge(e.key)}
            </NavLink>
          </li>
        ))}
      </ul>
    </>
  );
}

export function Sidebar() {
  const { isAdmin, me } = useSession();
  const isSupervisor = me?.role === "admin" || me?.role === "supervisor";
  const stats = useStats();
  const visible = useVisibleProviders();
  const levels = useThresholdStates().data?.data;
  // On a phone the menu folds away above the screen; a choice closes it.
  const { pathname } = useLocation();
  const [openAt, setOpenAt] = useState<string | null>(null);
  const open = openAt === pathname;
  const menuId = useId();

  return (
    <nav className={open ? "sidebar open" : "sidebar"} aria-label="Main">
      <div className="brand">
        <span aria-hidden="true">📟</span> Callboard
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={open}
          aria-controls={menuId}
          onClick={() => setOpenAt(open ? null : pathname)}
        >
          {open ? "Close menu" : "Menu"}
        </button>
      </div>
      <div className="menu" id={menuId}>
        <ul>
          <li>
            <NavLink to="/dashboard">
              <span className="icon" aria-hidden="true">
                📊
              </span>
              Dashboard
            </NavLink>
          </li>
          {inDesktop() && (
            <li>
              <NavLink to="/desktop/settings">
                <span className="icon" aria-hidden="true">
                  🖥
                </span>
                This computer
              </NavLink>
            </li>
          )}
          <li>
            <NavLink to="/history">
              <span className="icon" aria-hidden="true">
                📇
              </span>
              Call history
            </NavLink>
          </li>
          <li>
            <NavLink to="/voicemail">
              <span className="icon" aria-hidden="true">
                📨
              </span>
              Voicemail
            </NavLink>
          </li>
          {me?.role !== "agent" && (
            <li>
              <NavLink to="/analytics">
                <span className="icon" aria-hidden="true">
                  📈
                </span>
                Analytics
              </NavLink>
            </li>
          )}
          {isSupervisor && (
            <li>
              <NavLink to="/agents">
                <span className="icon" aria-hidden="true">
                  🎧
                </span>
                Agents
              </NavLink>
            </li>
          )}
          {isSupervisor && (
            <li>
              <NavLink to="/thresholds">
                <span className="icon" aria-hidden="true">
                  🚦
                </span>
                Thresholds
              </NavLink>
            </li>
          )}
          {isSupervisor && (
            <li>
              <NavLink to="/flows">
                <span className="icon" aria-hidden="true">
                  🔀
                </span>
                IVR flows
              </NavLink>
            </li>
          )}
        </ul>
        <QueueNav
          id="live"
          title="IVR Live"
          allIcon="◉"
          providers={visible}
          badge={(slug) => (
            <Badge n={liveCount(stats.data, slug)} label="live calls" level={worstLevel(levels, slug, "live")} />
          )}
        />
        <QueueNav
          id="hangup"
          title="IVR Hangup"
          allIcon="☎"
          providers={visible}
          badge={(slug) => (
            <Badge
              n={pendingCount(stats.data, slug)}
              label="pending callbacks"
              hot
              level={worstLevel(levels, slug, "hangup")}
            />
          )}
        />
        {isAdmin && (
          <>
            <h2 id="nav-masters">Masters</h2>
            <ul aria-labelledby="nav-masters">
              {MASTERS.map(([to, glyph, label]) => (
                <li key={to}>
                  <NavLink to={to}>
                    <span className="icon" aria-hidden="true">
                      {glyph}
                    </span>
                    {label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </nav>
  );
}
