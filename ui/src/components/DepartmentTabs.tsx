import { NavLink } from "react-router";
import type { Provider } from "../api/types";
import { iconGlyph } from "../lib/icons";

/** "All" then one tab per department the person may see. */
export function DepartmentTabs({
  base,
  providers,
  count,
}: {
  base: string;
  providers: Provider[];
  count?: (slug?: string) => number;
}) {
  return (
    <nav className="tabs" aria-label="Departments">
      <NavLink to={`${base}/all`}>All{count && <span className="badge">{count()}</span>}</NavLink>
      {providers.map((p) => (
        <NavLink key={p.slug} to={`${base}/${p.slug}`}>
          <span aria-hidden="true">{iconGlyph(p.icon)}</span>
          {p.name}
          {count && <span className="badge">{count(p.slug)}</span>}
        </NavLink>
      ))}
    </nav>
  );
}
