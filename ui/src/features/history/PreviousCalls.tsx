// The caller's other calls, newest first, in the call drawer: a repeat
// caller is flagged, with what happened each time.
import { StatusBadge } from "../../components/StatusBadge";
import { formatDuration, formatWhen, titleCase } from "../../lib/format";
import { providerName, useVisibleProviders } from "../../lib/useVisibleProviders";
import type { Call } from "../../api/types";
import { PREVIOUS_LIMIT, useCallsFrom } from "./queries";

export function PreviousCalls({ call }: { call: Call }) {
  const providers = useVisibleProviders();
  const from = useCallsFrom(call.mobile_number);
  if (!call.mobile_number) return null;
  const others = (from.data?.data ?? []).filter(
    (c) => !(c.call_id === call.call_id && c.department === call.department),
  );
  const total = from.data ? from.data.total - 1 : 0;
  return (
    <section className="stack" aria-labelledby="prev-h" data-testid="previous-calls">
      <h3 id="prev-h" style={{ margin: 0 }} className="row">
        Previous calls from this number
        {total > 0 && (
          <span className="badge repeat" data-testid="repeat-caller">
            Repeat caller · {total} other {total === 1 ? "call" : "calls"}
          </span>
        )}
      </h3>
      {from.isPending ? (
        <p className="muted">Loading…</p>
      ) : others.length === 0 ? (
        <p className="muted">None: this is the first call from this number.</p>
      ) : (
        <ul className="timeline">
          {others.slice(0, PREVIOUS_LIMIT - 1).map((c) => (
            <li key={`${c.department}/${c.call_id}`} data-call-id={c.call_id}>
              <div className="row">
                <StatusBadge status={c.status} />
                <span>{formatWhen(c.started_at ?? c.created_at)}</span>
                <span className="muted">{providerName(providers, c.department)}</span>
                {c.duration_seconds ? <span className="muted">{formatDuration(c.duration_seconds)}</span> : null}
                {c.last_outcome && <span>{titleCase(c.last_outcome)}</span>}
                {(c.agent_name ?? c.agent_id) && <span className="muted">{c.agent_name ?? c.agent_id}</span>}
              </div>
            </li>
          ))}
        </ul>
      )}
      {total > others.length && <p className="muted small">Showing the newest {others.length}.</p>}
    </section>
  );
}
