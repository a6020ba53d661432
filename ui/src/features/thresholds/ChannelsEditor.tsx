// Where alerts go: Slack, Teams, any webhook, e-mail; each for every
// department or only some.
import type { Provider } from "../../api/types";
import { Field } from "../../components/Field";
import { CHANNEL_KINDS, channelError, type ChannelDraft } from "./channels";
import type { ChannelKind } from "./model";

function ChannelRow({
  index,
  channel,
  providers,
  showErrors,
  onChange,
  onRemove,
}: {
  index: number;
  channel: ChannelDraft;
  providers: Provider[];
  showErrors: boolean;
  onChange: (c: ChannelDraft) => void;
  onRemove: () => void;
}) {
  const n = index + 1;
  const kind = CHANNEL_KINDS.find((k) => k.kind === channel.kind);
  const err = showErrors ? channelError(channel) : undefined;
  const toggle = (slug: string, on: boolean) =>
    onChange({
      ...channel,
      departments: on ? [...channel.departments, slug] : channel.departments.filter((d) => d !== slug),
    });
  return (
    <li className="card stack" data-testid="channel">
      <div className="channel-row">
        <Field label={`Channel ${n}`}>
          {(p) => (
            <select
              {...p}
              value={channel.kind}
              onChange={(e) => onChange({ ...channel, kind: e.target.value as ChannelKind })}
            >
              {CHANNEL_KINDS.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={channel.kind === "email" ? `Channel ${n} address` : `Channel ${n} URL`} error={err}>
          {(p) => (
            <input
              {...p}
              value={channel.target}
              placeholder={kind?.placeholder}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => onChange({ ...channel, target: e.target.value })}
            />
          )}
        </Field>
        <button type="button" onClick={onRemove}>
          Remove channel {n}
        </button>
      </div>
      <fieldset className="row">
        <legend className="small">Departments (none ticked: every department)</legend>
        {providers.map((p) => (
          <label key={p.slug} className="row" style={{ gap: 4 }}>
            <input
              type="checkbox"
              checked={channel.departments.includes(p.slug)}
              onChange={(e) => toggle(p.slug, e.target.checked)}
            />
            {p.name}
          </label>
        ))}
      </fieldset>
    </li>
  );
}

export function ChannelsEditor({
  channels,
  providers,
  showErrors,
  onChange,
}: {
  channels: ChannelDraft[];
  providers: Provider[];
  showErrors: boolean;
  onChange: (next: ChannelDraft[]) => void;
}) {
  return (
    <section className="stack" aria-labelledby="channels-h">
      <h2 id="channels-h" className="section-title">
        Where alerts go
      </h2>
      {channels.length === 0 && (
        <p className="muted">No channel: crossings show in the console only (banner, tab title, notification).</p>
      )}
      <ul className="plain">
        {channels.map((c, i) => (
          <ChannelRow
            key={i}
            index={i}
            channel={c}
            providers={providers}
            showErrors={showErrors}
            onChange={(next) => onChange(channels.map((x, j) => (j === i ? next : x)))}
            onRemove={() => onChange(channels.filter((_, j) => j !== i))}
          />
        ))}
      </ul>
      <div className="row">
        <button type="button" onClick={() => onChange([...channels, { kind: "slack", target: "", departments: [] }])}>
          Add channel
        </button>
      </div>
    </section>
  );
}
