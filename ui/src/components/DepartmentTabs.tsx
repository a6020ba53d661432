import { NavLink } from "react-router";
import type { Provider } from "../api/types";
import { iconGlyph } from "../lib/icons";
import type { Level } from "../features/thresholds/model";

function TabBadge({ n, level }: { n: number; level: Level }) {
  if (level === "ok") return <span className="badge">{n}</span>;
  return (
    <span className={`badge level-${level}`} data-level={level} title={`${level === "red" ? "Red" : "Amber"} alert`}>
      {n}
      <span className="sr-only">, {level} alert</span>
    </span>
  );
}

/** "All" then one tab per department the person may see. */
export function DepartmentTabs({
  base,
  providers,
  count,
  level,
}: {
  base: string;
  providers: Provider[];
  count?: (slug?: string) => number;
  /** The worst threshold level of a department (all when undefined). */
  level?: (slug?: string) => Level;
}) {
  return (
    <nav className="tabs" aria-label="Departments">
      <NavLink to={`${base}/all`}>All{count && <TabBadge n={count()} level={level?.() ?? "ok"} />}</NavLink>
      {providers.map((p) => (
        <NavLink key={p.slug} to={`${base}/${p.slug}`}>
          <span aria-hidden="true">{iconGlyph(p.icon)}</span>
          {p.name}
          {count && <TabBadge n={count(p.slug)} level={level?.(p.slug) ?? "ok"} />}
        </NavLink>
      ))}
    </nav>
  );
}
