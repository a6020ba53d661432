import { useEffect, useState, type ReactNode } from "react";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { ReplicaOutbox } from "../features/replica/ReplicaOutbox";
import { ThemeToggle } from "./ThemeToggle";
import { AgentStateSelect } from "../features/agents/AgentStateSelect";
import { useSession } from "../session";
import { alertTitlePrefix, CrossingBanner } from "../features/thresholds/CrossingBanner";
import { useCrossings } from "../features/thresholds/crossings";
import { PasswordDialog } from "../features/account/PasswordDialog";
import { VoicemailNotice } from "../features/voicemails/VoicemailNotice";

/** A screen: its title bar (with the connection, theme and user) and body. */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const { me, signOut } = useSession();
  const alerts = useCrossings().length;
  const [changing, setChanging] = useState(false);
  useEffect(() => {
    document.title = `${alertTitlePrefix(alerts)}${title} · Callboard`;
  }, [title, alerts]);
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
        {me?.user && <button onClick={() => setChanging(true)}>Password</button>}
        <button onClick={() => void signOut()}>Sign out</button>
      </header>
      {changing && <PasswordDialog onClose={() => setChanging(false)} />}
      <CrossingBanner />
      <VoicemailNotice />
      <main className="content">{children}</main>
    </div>
  );
}
