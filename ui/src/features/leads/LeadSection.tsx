// The call's lead in the call drawer (name, e-mail, status, list), and the
// lead's other calls, when the lead webhook has delivered it.
import { StatusBadge } from "../../components/StatusBadge";
import { PhoneLink } from "../../components/PhoneLink";
import { formatDuration, formatWhen } from "../../lib/format";
import type { Call, Lead } from "../../api/types";
import { leadName, leadStatus } from "./lead";
import { useLead } from "./queries";

function Field({ k, v }: { k: string; v: React.ReactNode }) {
  return (
    <>
      <dt>{k}</dt>
      <dd>{v === null || v === undefined || v === "" ? "—" : v}</dd>
    </>
  );
}

export function LeadSection({ call, lead: fromCall }: { call: Call; lead: Lead }) {
  // A lead retention archived (the call named it again later) is out of the
  // lead routes: the call's copy is all there is.
  const archived = fromCall.archived_at ?? null;
  const detail = useLead(fromCall.department, archived ? null : fromCall.lead_id);
  // The lead as the stream last told it (`lead.upserted` patches this query),
  // else as the call detail carried it.
  const lead = detail.data && detail.data.version >= fromCall.version ? detail.data : fromCall;
  const others = (detail.data?.calls ?? []).filter((c) => c.call_id !== call.call_id);
  return (
    <section className="stack" aria-labelledby="lead-h" data-testid="lead">
      <h3 id="lead-h" style={{ margin: 0 }}>
        Lead · {leadName(lead)}
      </h3>
      <dl className="fields">
        <Field k="Lead id" v={<code>{lead.lead_id}</code>} />
        <Field k="Phone" v={lead.phone ? <PhoneLink number={lead.phone} /> : null} />
        <Field k="E-mail" v={lead.email ? <a href={`mailto:${lead.email}`}>{lead.email}</a> : null} />
        <Field k="Status" v={leadStatus(lead)} />
        <Field k="List" v={lead.list_id} />
        <Field k="Owner" v={lead.owner_id} />
        <Field k="Updated" v={formatWhen(lead.modified_at ?? lead.updated_at)} />
        {archived && <Field k="Archived" v={formatWhen(archived)} />}
      </dl>
      <h4 style={{ margin: 0 }}>Other calls with this lead</h4>
      {archived ? (
        <p className="muted">Archived by retention with its earlier calls.</p>
      ) : detail.isPending ? (
        <p className="muted">Loading…</p>
      ) : detail.isError ? (
        <p className="muted">Could not load the lead's calls.</p>
      ) : others.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <ul className="timeline" data-testid="lead-calls">
          {others.map((c) => (
            <li key={c.id} data-call-id={c.call_id}>
              <div className="row">
                <StatusBadge status={c.status} />
                <span>{formatWhen(c.started_at ?? c.created_at)}</span>
                {c.duration_seconds ? <span className="muted">{formatDuration(c.duration_seconds)}</span> : null}
                {(c.agent_name ?? c.agent_id) && <span className="muted">{c.agent_name ?? c.agent_id}</span>}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
