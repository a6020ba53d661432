import { useEffect, type ReactNode } from "react";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { ReplicaOutbox } from "./ReplicaOutbox";
import { ThemeToggle } from "./ThemeToggle";
import { AgentStateSelect } from "./AgentStateSelect";
import { useSession } from "../session";

/** A screen: its title bar (with the connection, theme and user) and body. */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const { me, signOut } = useSession();
  useEffect(() => {
    document.title = `${title} · Callboard`;
  }, [title]);
  return (
    <div className="main">
      <header className="topbar">
        <h1>{title}</h1>
        <div className="row grow">{actions}</div>
        <ConnectionIndicator />
        <ReplicaOutbox />
        <ThemeToggle />
        <AgentStateSelect />
        <span className="muted" data-testid="whoami">
          {me?.user?.display_name || me?.user?.username || "token"} · {me?.role}
        </span>
        <button onClick={() => void signOut()}>Sign out</button>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
