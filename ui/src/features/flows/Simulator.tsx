// The simulator: a test call through the saved draft, from a chosen caller,
// DID and time, in one platform's dialect. Each key pressed re-runs the call
// with every input so far (the server is stateless for simulations); each step
// shows the node reached and the exact document that platform would get.
import { useId, useState } from "react";
import { CopyButton } from "../../components/Dialog";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { DIALECTS, flowsApi, type Dialect, type FlowId, type SimResult, type SimStep } from "./api";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
/** What the simulator sends for "the caller pressed nothing" and "the caller hung up". */
export const TIMEOUT_INPUT = "timeout";
export const HANGUP_INPUT = "hangup";

function localNow(): string {
  const d = new Date();
  d.setSeconds(0, 0);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The response indented for reading (JSON re-indented, XML one element a line); "Copy" copies it exactly. */
export function pretty(s: string | undefined): string {
  if (!s) return "";
  const t = s.trim();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      return s;
    }
  }
  if (t.startsWith("<")) return indentXml(t);
  return s;
}

function indentXml(xml: string): string {
  const parts = xml.replace(/>\s*</g, ">\n<").split("\n");
  let depth = 0;
  const out: string[] = [];
  for (const line of parts) {
    const closing = /^<\//.test(line);
    const opening = /^<[^!?/][^>]*[^/]>$/.test(line) || /^<[^!?/]>$/.test(line);
    if (closing) depth = Math.max(0, depth - 1);
    out.push(`${"  ".repeat(depth)}${line}`);
    if (opening && !line.includes("</")) depth++;
  }
  return out.join("\n");
}

function responseOf(step: SimStep): string {
  return step.rendered?.body ?? "";
}

/** The node a step left the caller at: the waiting node, else the last one visited. */
export function stepNode(step: SimStep): string {
  return step.node ?? step.visits[step.visits.length - 1]?.node ?? "";
}

/** Every node the test call entered, in order (a node a step resumes is not entered again). */
export function visitedNodes(steps: readonly SimStep[]): string[] {
  return steps.flatMap((s) => s.visits.filter((v) => !v.resumed).map((v) => v.node));
}

export function Simulator({
  flowId,
  dirty,
  canSave,
  save,
  onVisited,
  nodeType,
}: {
  flowId: FlowId;
  dirty: boolean;
  canSave: boolean;
  save: () => Promise<boolean>;
  onVisited: (nodes: string[]) => void;
  nodeType: (id: string) => string;
}) {
  const id = useId();
  const [caller, setCaller] = useState("+919876543210");
  const [did, setDid] = useState("+918040001234");
  const [at, setAt] = useState(localNow);
  const [dialect, setDialect] = useState<Dialect>("exotel");
  const [inputs, setInputs] = useState<string[] | null>(null);
  const [buffer, setBuffer] = useState("");
  const [result, setResult] = useState<SimResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);
  const [open, setOpen] = useState<number | null>(null);

  const last = result?.steps[result.steps.length - 1];
  const waitingAt = last && !last.ended ? (last.node ?? null) : null;
  const waitingType = waitingAt ? nodeType(waitingAt) : "";
  const collecting = waitingType === "gather";
  const ended = last?.ended ?? false;

  const run = async (next: string[], d: Dialect = dialect) => {
    setRunning(true);
    setError(null);
    try {
      if (dirty && canSave && !(await save())) {
        setRunning(false);
        return;
      }
      const when = new Date(at);
      const r = await flowsApi.simulate(flowId, {
        dialect: d,
        caller,
        did,
        at: Number.isNaN(when.getTime()) ? new Date().toISOString() : when.toISOString(),
        inputs: next,
      });
      setInputs(next);
      setResult(r);
      setOpen(null);
      onVisited(visitedNodes(r.steps));
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  };

  const press = (k: string) => {
    if (!inputs || running || ended) return;
    if (collecting) {
      if (k === "#") {
        void run([...inputs, buffer]);
        setBuffer("");
      } else setBuffer((b) => b + k);
      return;
    }
    void run([...inputs, k]);
  };

  return (
    <section className="stack ivr-sim" aria-labelledby={`${id}-h`} data-testid="simulator">
      <h2 id={`${id}-h`} className="sr-only">
        Test call
      </h2>
      <div className="grid2">
        <Field label="Caller">
          {(p) => <input {...p} value={caller} onChange={(e) => setCaller(e.target.value)} />}
        </Field>
        <Field label="DID">{(p) => <input {...p} value={did} onChange={(e) => setDid(e.target.value)} />}</Field>
        <Field label="Time">
          {(p) => <input {...p} type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />}
        </Field>
        <Field label="Dialect">
          {(p) => (
            <select
              {...p}
              value={dialect}
              onChange={(e) => {
                const d = e.target.value as Dialect;
                setDialect(d);
                if (inputs) void run(inputs, d);
              }}
            >
              {DIALECTS.map((d) => (
                <option key={d.value} value={d.value}>
                  {d.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="row">
        <button type="button" className="primary" onClick={() => void run([])} aria-disabled={running || undefined}>
          {inputs ? "Restart test call" : "Start test call"}
        </button>
        {inputs && (
          <button
            type="button"
            onClick={() => {
              setInputs(null);
              setResult(null);
              setBuffer("");
              onVisited([]);
            }}
          >
            End
          </button>
        )}
        {dirty && <span className="muted small">{canSave ? "Saves the draft first." : "Runs the saved draft."}</span>}
      </div>
      <ErrorBanner error={error} />
      {inputs && (
        <div className="ivr-keypad-wrap">
          <div className="ivr-keypad" role="group" aria-label="Keypad">
            {KEYS.map((k) => (
              <button
                key={k}
                type="button"
                onClick={() => press(k)}
                disabled={running || ended}
                aria-label={`Press ${k}`}
              >
                {k}
              </button>
            ))}
          </div>
          <div className="stack tight">
            {collecting && (
              <span className="small">
                Digits: <code data-testid="sim-buffer">{buffer || "…"}</code> (# sends)
              </span>
            )}
            <button type="button" onClick={() => void run([...inputs, TIMEOUT_INPUT])} disabled={running || ended}>
              Press nothing (timeout)
            </button>
            {(waitingType === "queue" || waitingType === "transfer") && (
              <>
                <button type="button" onClick={() => void run([...inputs, "answer"])} disabled={running}>
                  An agent answers
                </button>
                <button type="button" onClick={() => void run([...inputs, "no_answer"])} disabled={running}>
                  Nobody answers
                </button>
              </>
            )}
            {waitingType === "record" && (
              <button type="button" onClick={() => void run([...inputs, "record"])} disabled={running}>
                Message recorded
              </button>
            )}
            <button type="button" onClick={() => void run([...inputs, HANGUP_INPUT])} disabled={running || ended}>
              Caller hangs up
            </button>
            <span className="muted small">
              Inputs: <code data-testid="sim-inputs">{inputs.length ? inputs.join(" · ") : "none"}</code>
            </span>
          </div>
        </div>
      )}
      {result && (
        <ol className="ivr-steps" data-testid="sim-steps">
          {result.steps.map((s, i) => {
            const isLast = i === result.steps.length - 1;
            const shown = open === null ? isLast : open === i;
            return (
              <li key={i} className={isLast ? "current" : undefined} data-node={stepNode(s)} data-testid="sim-step">
                <button type="button" className="link" onClick={() => setOpen(shown ? -1 : i)} aria-expanded={shown}>
                  {s.input === "start" ? "Call starts" : `After “${s.input}”`}:{" "}
                  <span className="mono">{stepNode(s)}</span>{" "}
                  <span className="muted">{s.ended ? "(call ends)" : s.node ? "(waits)" : ""}</span>
                </button>
                {s.visits.length > 0 && (
                  <div className="muted small">
                    {s.visits.map((v) => `${v.node}${v.edge ? ` —${v.edge}→` : ""}`).join(" ")}
                  </div>
                )}
                {s.problem && <div className="warn-text small">{s.problem}</div>}
                {shown && responseOf(s) && (
                  <div className="row small">
                    <span className="muted grow">What the platform gets, indented for reading</span>
                    <CopyButton text={responseOf(s)} label="Copy exact" />
                  </div>
                )}
                {shown && (
                  <pre
                    tabIndex={0}
                    className="ivr-response"
                    data-testid="sim-response"
                    aria-label={`What ${dialect} gets at ${s.node}`}
                  >
                    {pretty(responseOf(s))}
                  </pre>
                )}
              </li>
            );
          })}
        </ol>
      )}
      {last?.ended && (
        <p className="small" data-testid="sim-end">
          Call ended{last.exit_reason ? " · exit reason " : "."}
          {last.exit_reason && <code>{last.exit_reason}</code>}
        </p>
      )}
    </section>
  );
}
