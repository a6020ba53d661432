// The visual flow editor: palette, canvas (React Flow), properties panel,
// problems list and the simulator. The flow document is the one source of
// truth; the graph is drawn from it, and every change to the graph (drag,
// connect, delete) is a change to the document, kept in an undo history.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { Link } from "react-router";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { Page } from "../../components/Page";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Dialog } from "../../components/Dialog";
import { useProviders } from "../providers/queries";
import { useSession } from "../../session";
import { flowsApi, useFlow, validationErrorsOf, type Flow, type FlowId, type ValidationError } from "./api";
import { RollbackDialog, versionText } from "./FlowsPage";
import * as H from "./history";
import {
  addNode,
  connect,
  deleteNode,
  docFromFlow,
  flowBody,
  freeSpot,
  NODE_INFO,
  NODE_TYPES,
  type FlowDoc,
  type NodeType,
  type Point,
} from "./model";
import { errorsByNode, nearestInDirection, toEdges, toNodes } from "./graph";
import { NodeView, type IvrNode } from "./NodeView";
import { Properties } from "./Properties";
import { Simulator } from "./Simulator";
import { useQueryClient } from "@tanstack/react-query";
import { flowKeys } from "./api";

const NODE_TYPES_RF = { ivr: NodeView };
const MOVE = 20;

export const EDITOR_SHORTCUTS: [string, string][] = [
  ["Ctrl+S", "Save (and check)"],
  ["Ctrl+Z", "Undo"],
  ["Ctrl+Shift+Z / Ctrl+Y", "Redo"],
  ["← ↑ → ↓", "Select the nearest node that way"],
  ["Shift + arrows", "Move the selected node"],
  ["Delete", "Delete the selected node or connection"],
  ["Enter", "Edit the selected node's properties"],
  ["N", "Add a node (the palette)"],
  ["T", "Test call (the simulator)"],
  ["Esc", "Clear the selection"],
  ["?", "This help"],
];

export function FlowEditorPage({ id }: { id: FlowId }) {
  const flow = useFlow(id);
  if (!flow.data)
    return (
      <Page title="IVR flow">
        <ErrorBanner error={flow.error} onRetry={() => void flow.refetch()} />
        {flow.isPending && <p className="muted">Loading the flow…</p>}
        <Link to="/flows">← All flows</Link>
      </Page>
    );
  return (
    <ReactFlowProvider>
      <Editor key={String(flow.data.id)} flow={flow.data} />
    </ReactFlowProvider>
  );
}

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

type Side = "properties" | "simulator";

function Editor({ flow }: { flow: Flow }) {
  const { isAdmin } = useSession();
  const readOnly = !isAdmin;
  const qc = useQueryClient();
  const rf = useReactFlow();
  const providers = useProviders();
  const departments = useMemo(() => (providers.data?.data ?? []).map((p) => p.slug), [providers.data]);

  const [hist, setHist] = useState(() => H.start(docFromFlow(flow)));
  const doc = hist.present;
  const [saved, setSaved] = useState(() => JSON.stringify(flowBody(docFromFlow(flow))));
  const dirty = JSON.stringify(flowBody(doc)) !== saved;
  const [meta, setMeta] = useState<Flow>(flow);
  const [selected, setSelected] = useState<string | null>(null);
  const [selectedEdge, setSelectedEdge] = useState<string | null>(null);
  const [errors, setErrors] = useState<ValidationError[] | null>(flow.errors ?? null);
  const [measured, setMeasured] = useState<Record<string, { width: number; height: number }>>({});
  const [side, setSide] = useState<Side>("properties");
  const [visited, setVisited] = useState<string[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [rollingBack, setRollingBack] = useState(false);
  const paletteRef = useRef<HTMLDivElement>(null);
  const propsRef = useRef<HTMLDivElement>(null);

  const edit = useCallback((next: FlowDoc, group: string | null = null) => {
    setHist((h) => H.push(h, next, group));
    setNote(null);
  }, []);

  const byNode = useMemo(() => errorsByNode(errors ?? []), [errors]);
  const nodes = useMemo(
    () => toNodes(doc, { selected, selectedEdge, errors: byNode, visited, readOnly, measured }),
    [doc, selected, selectedEdge, byNode, visited, readOnly, measured],
  );
  const edges = useMemo(() => toEdges(doc, { selectedEdge, visited }), [doc, selectedEdge, visited]);
  const selectedNode = doc.nodes.find((n) => n.id === selected) ?? null;

  const select = useCallback((id: string | null) => {
    setSelected(id);
    setSelectedEdge(null);
  }, []);

  // Save: the server stores the draft and answers with its problems, node by node.
  const save = useCallback(async (): Promise<boolean> => {
    if (readOnly) return false;
    setBusy("Saving…");
    setFailure(null);
    try {
      const body = flowBody(hist.present);
      let updated: Flow;
      try {
        updated = await flowsApi.save(flow.id, body);
      } catch (e) {
        const list = validationErrorsOf(e);
        if (!list) throw e;
        setErrors(list);
        setNote(null);
        return false;
      }
      setSaved(JSON.stringify(body));
      setMeta((m) => ({ ...m, ...updated }));
      const problems = updated.errors ?? [];
      setErrors(problems);
      setNote(problems.length ? null : "Saved. No problems found.");
      void qc.invalidateQueries({ queryKey: flowKeys.all });
      return true;
    } catch (e) {
      setFailure(e);
      return false;
    } finally {
      setBusy(null);
    }
  }, [flow.id, hist.present, qc, readOnly]);

  const publish = async () => {
    if (dirty && !(await save())) return;
    setBusy("Publishing…");
    setFailure(null);
    try {
      const r = await flowsApi.publish(flow.id);
      setErrors([]);
      setMeta((m) => ({ ...m, ...r.flow, version: r.version }));
      setNote(`Version ${r.version} published. New calls get it; calls in progress keep theirs.`);
      void qc.invalidateQueries({ queryKey: flowKeys.all });
    } catch (e) {
      const list = validationErrorsOf(e);
      if (list) setErrors(list);
      else setFailure(e);
    } finally {
      setBusy(null);
    }
  };

  // Check the flow as it is on screen, saved or not.
  const check = async () => {
    setFailure(null);
    try {
      const v = await flowsApi.validate(flow.id, flowBody(doc));
      setErrors(v.errors);
      setNote(v.errors.length ? null : "No problems found.");
    } catch (e) {
      setFailure(e);
    }
  };

  const addAt = useCallback(
    (type: NodeType, at?: Point) => {
      if (readOnly) return;
      const place = at ?? freeSpot(doc, selected ? (doc.layout[selected] ?? null) : null);
      const r = addNode(doc, type, place);
      edit(r.doc);
      select(r.id);
      setSide("properties");
    },
    [doc, edit, readOnly, select, selected],
  );

  const removeSelection = useCallback(() => {
    if (readOnly) return;
    if (selectedEdge) {
      const e = edges.find((x) => x.id === selectedEdge);
      if (e?.sourceHandle) edit(connect(doc, e.source, e.sourceHandle, null));
      setSelectedEdge(null);
    } else if (selected) {
      edit(deleteNode(doc, selected));
      setSelected(null);
    }
  }, [doc, edges, edit, readOnly, selected, selectedEdge]);

  // Keyboard: the editor's shortcuts, on the whole page while it is open.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === "s") {
        e.preventDefault();
        void save();
        return;
      }
      if (mod && (k === "z" || k === "y")) {
        e.preventDefault();
        setHist((h) => (k === "y" || e.shiftKey ? H.redo(h) : H.undo(h)));
        return;
      }
      if (mod || e.altKey || isTyping(e.target) || document.querySelector(".dialog")) return;
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        removeSelection();
      } else if (e.key.startsWith("Arrow")) {
        const dir = e.key.slice(5).toLowerCase() as "up" | "down" | "left" | "right";
        e.preventDefault();
        if (!selected) {
          select(doc.entry || doc.nodes[0]?.id || null);
          return;
        }
        if (e.shiftKey && !readOnly) {
          const p = doc.layout[selected] ?? { x: 0, y: 0 };
          const d = { up: [0, -MOVE], down: [0, MOVE], left: [-MOVE, 0], right: [MOVE, 0] }[dir];
          edit(
            { ...doc, layout: { ...doc.layout, [selected]: { x: p.x + (d[0] ?? 0), y: p.y + (d[1] ?? 0) } } },
            `move:${selected}`,
          );
          return;
        }
        const next = nearestInDirection(doc, selected, dir);
        if (next) {
          select(next);
          const p = doc.layout[next];
          if (p) void rf.setCenter(p.x + 100, p.y + 50, { duration: 150, zoom: rf.getZoom() });
        }
      } else if (e.key === "Enter" && selected) {
        e.preventDefault();
        setSide("properties");
        requestAnimationFrame(() => propsRef.current?.querySelector<HTMLElement>("input, select, textarea")?.focus());
      } else if (e.key === "Escape") {
        select(null);
      } else if (k === "n" && !readOnly) {
        e.preventDefault();
        paletteRef.current?.querySelector<HTMLElement>("button")?.focus();
      } else if (k === "t") {
        e.preventDefault();
        setSide("simulator");
      } else if (e.key === "?") {
        setHelp(true);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [doc, edit, readOnly, removeSelection, rf, save, select, selected]);

  // Fit the whole flow once every node has been measured (React Flow's own
  // first fit can run before the nodes have sizes).
  const fitted = useRef(false);
  const allMeasured = doc.nodes.every((n) => measured[n.id]);
  useEffect(() => {
    if (fitted.current || !allMeasured) return;
    const t = requestAnimationFrame(() => {
      fitted.current = true;
      void rf.fitView({ padding: 0.15, maxZoom: 1 });
    });
    return () => cancelAnimationFrame(t);
  }, [allMeasured, rf]);

  // Leaving with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const onNodesChange = useCallback(
    (changes: NodeChange<IvrNode>[]) => {
      let layout: FlowDoc["layout"] | null = null;
      let moved = "";
      let sel: string | null | undefined;
      const dims: typeof measured = {};
      for (const c of changes) {
        if (c.type === "dimensions" && c.dimensions) dims[c.id] = c.dimensions;
        else if (c.type === "position" && c.position && !readOnly) {
          layout = layout ?? { ...doc.layout };
          layout[c.id] = c.position;
          moved = moved || c.id;
        } else if (c.type === "select") {
          if (c.selected) sel = c.id;
          else if (sel === undefined && c.id === selected) sel = null;
        }
      }
      if (Object.keys(dims).length) setMeasured((m) => ({ ...m, ...dims }));
      if (layout) edit({ ...doc, layout }, `move:${moved}`);
      if (sel !== undefined) select(sel);
    },
    [doc, edit, readOnly, select, selected],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      for (const c of changes) {
        if (c.type !== "select") continue;
        if (c.selected) {
          setSelectedEdge(c.id);
          setSelected(null);
        } else if (c.id === selectedEdge) setSelectedEdge(null);
      }
    },
    [selectedEdge],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (readOnly || !c.sourceHandle) return;
      edit(connect(doc, c.source, c.sourceHandle, c.target));
    },
    [doc, edit, readOnly],
  );

  const onReconnect = useCallback(
    (old: Edge, c: Connection) => {
      if (readOnly || !old.sourceHandle) return;
      if (c.source !== old.source || c.sourceHandle !== old.sourceHandle) {
        edit(connect(connect(doc, old.source, old.sourceHandle, null), c.source, c.sourceHandle ?? "next", c.target));
      } else edit(connect(doc, old.source, old.sourceHandle, c.target));
    },
    [doc, edit, readOnly],
  );

  const onDrop = (e: DragEvent) => {
    const type = e.dataTransfer.getData("application/x-ivr-node");
    if (!type || !(NODE_TYPES as readonly string[]).includes(type)) return;
    e.preventDefault();
    addAt(type as NodeType, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
  };

  const general = (errors ?? []).filter((e) => !e.node || !doc.nodes.some((n) => n.id === e.node));

  return (
    <Page
      title={`IVR flow · ${doc.name || "untitled"}`}
      actions={
        <>
          <Link to="/flows">← All flows</Link>
          <span className="grow" />
          <Link className="button" to={`/flows/${encodeURIComponent(String(flow.id))}/analytics`}>
            Analytics
          </Link>
          <button type="button" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
            ?
          </button>
        </>
      }
    >
      <div className="flow-editor" data-testid="flow-editor" data-readonly={readOnly || undefined}>
        {!readOnly && (
          <div
            className="ivr-palette"
            ref={paletteRef}
            role="toolbar"
            aria-label="Add a node"
            aria-orientation="vertical"
          >
            <div className="field">
              <label htmlFor="flow-name">Flow name</label>
              <input
                id="flow-name"
                value={doc.name}
                maxLength={80}
                onChange={(e) => edit({ ...doc, name: e.target.value }, "name")}
              />
            </div>
            <h2 className="small muted">Add a node</h2>
            {NODE_TYPES.map((t) => (
              <button
                key={t}
                type="button"
                draggable
                title={NODE_INFO[t].blurb}
                data-type={t}
                onDragStart={(e) => {
                  e.dataTransfer.setData("application/x-ivr-node", t);
                  e.dataTransfer.effectAllowed = "copy";
                }}
                onClick={() => addAt(t)}
                onKeyDown={(e) => {
                  const all = [...(paletteRef.current?.querySelectorAll<HTMLElement>("button") ?? [])];
                  const i = all.indexOf(e.currentTarget);
                  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
                    e.preventDefault();
                    e.stopPropagation();
                    all[(i + (e.key === "ArrowDown" ? 1 : all.length - 1)) % all.length]?.focus();
                  }
                }}
              >
                <span aria-hidden="true">{NODE_INFO[t].glyph}</span> {NODE_INFO[t].label}
              </button>
            ))}
          </div>
        )}
        <div className="ivr-center">
          <div className="row ivr-toolbar" role="toolbar" aria-label="Flow">
            <span className="small" data-testid="editor-version">
              {versionText(meta)}
              {dirty ? " · unsaved changes" : ""}
            </span>
            <span className="grow" />
            {!readOnly && (
              <>
                <button type="button" onClick={() => setHist(H.undo)} disabled={!hist.past.length} title="Ctrl+Z">
                  Undo
                </button>
                <button
                  type="button"
                  onClick={() => setHist(H.redo)}
                  disabled={!hist.future.length}
                  title="Ctrl+Shift+Z"
                >
                  Redo
                </button>
                <button type="button" onClick={() => void check()} disabled={busy !== null}>
                  Check
                </button>
                <button
                  type="button"
                  className={dirty ? "primary" : undefined}
                  onClick={() => void save()}
                  disabled={busy !== null}
                  title="Ctrl+S"
                >
                  Save
                </button>
                <button type="button" className="primary" onClick={() => void publish()} disabled={busy !== null}>
                  Publish
                </button>
                {meta.version > 1 && (
                  <button type="button" onClick={() => setRollingBack(true)}>
                    Roll back
                  </button>
                )}
              </>
            )}
          </div>
          <div className="ivr-banners">
            <ErrorBanner error={failure} />
            {busy && (
              <p className="muted small" role="status">
                {busy}
              </p>
            )}
            {note && (
              <p className="banner ok" role="status">
                {note}
              </p>
            )}
            {readOnly && <p className="muted small">Read only: administrators edit and publish flows.</p>}
          </div>
          <div
            className="ivr-canvas"
            data-testid="canvas"
            onDragOver={(e) => {
              if (e.dataTransfer.types.includes("application/x-ivr-node")) {
                e.preventDefault();
                e.dataTransfer.dropEffect = "copy";
              }
            }}
            onDrop={onDrop}
          >
            <ReactFlow<IvrNode, Edge>
              nodes={nodes}
              edges={edges}
              nodeTypes={NODE_TYPES_RF}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onReconnect={onReconnect}
              onPaneClick={() => select(null)}
              deleteKeyCode={null}
              selectionKeyCode={null}
              multiSelectionKeyCode={null}
              nodesDraggable={!readOnly}
              nodesConnectable={!readOnly}
              edgesReconnectable={!readOnly}
              fitView
              fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
              minZoom={0.2}
              proOptions={{ hideAttribution: true }}
              aria-label="Flow graph"
            >
              <Background gap={20} />
              <Controls showInteractive={false} />
              <MiniMap pannable zoomable ariaLabel="Overview of the flow" style={{ width: 140, height: 100 }} />
            </ReactFlow>
          </div>
          <section className="ivr-problems" aria-labelledby="problems-h" data-testid="problems">
            <h2 id="problems-h">
              Problems{" "}
              {errors === null ? (
                <span className="muted small">not checked yet (Save or Check)</span>
              ) : (
                <span className={errors.length ? "error-text" : "muted small"}>
                  {errors.length ? errors.length : "none"}
                </span>
              )}
            </h2>
            {errors && errors.length > 0 && (
              <ul>
                {errors.map((e, i) => (
                  <li key={i} data-code={e.code}>
                    {e.node && doc.nodes.some((n) => n.id === e.node) ? (
                      <button type="button" className="link mono" onClick={() => select(e.node ?? null)}>
                        {e.node}
                      </button>
                    ) : (
                      e.node && <span className="mono">{e.node}</span>
                    )}{" "}
                    {e.message} <span className="muted small">({e.code})</span>
                  </li>
                ))}
              </ul>
            )}
            {general.length > 0 && <span className="sr-only">{general.length} problem(s) not tied to a node</span>}
          </section>
        </div>
        <aside className="ivr-side">
          <div className="tabs" role="tablist" aria-label="Side panel">
            <button
              role="tab"
              type="button"
              aria-selected={side === "properties"}
              onClick={() => setSide("properties")}
            >
              Properties
            </button>
            <button role="tab" type="button" aria-selected={side === "simulator"} onClick={() => setSide("simulator")}>
              Test call
            </button>
          </div>
          <div ref={propsRef} className="ivr-side-body" hidden={side !== "properties"}>
            {selectedNode ? (
              <Properties
                key={selectedNode.id}
                doc={doc}
                node={selectedNode}
                errors={byNode.get(selectedNode.id) ?? []}
                departments={departments}
                readOnly={readOnly}
                onEdit={edit}
                onSelect={select}
                onDelete={removeSelection}
              />
            ) : (
              <div className="muted stack small">
                <p>Select a node to see its properties{readOnly ? "" : ", or add one from the palette"}.</p>
                <p>
                  {doc.nodes.length} nodes · starts at <code>{doc.entry || "—"}</code>
                  {meta.version ? ` · providers get v${meta.version}` : ""}
                  {meta.used_by?.length ? ` (${meta.used_by.join(", ")})` : ""}
                </p>
                {!readOnly && (
                  <p>
                    Drag from a node’s labelled dot to another node to connect them; drag from <strong>+</strong> on a
                    menu or decision to add a digit or a rule.
                  </p>
                )}
              </div>
            )}
          </div>
          <div className="ivr-side-body" hidden={side !== "simulator"}>
            <Simulator
              flowId={flow.id}
              dirty={dirty}
              canSave={!readOnly}
              save={save}
              onVisited={setVisited}
              nodeType={(id) => doc.nodes.find((x) => x.id === id)?.type ?? ""}
            />
          </div>
        </aside>
      </div>
      {help && <ShortcutsDialog onClose={() => setHelp(false)} />}
      {rollingBack && (
        <RollbackDialog
          flow={meta}
          onClose={() => setRollingBack(false)}
          onDone={(r) => {
            setMeta((m) => ({ ...m, version: r.version }));
            setNote(`Version ${r.from} published again as version ${r.version}.`);
          }}
        />
      )}
    </Page>
  );
}

function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  return (
    <Dialog title="Flow editor shortcuts" onClose={onClose}>
      <table className="plain" aria-label="Keyboard shortcuts">
        <tbody>
          {EDITOR_SHORTCUTS.map(([k, what]) => (
            <tr key={k}>
              <td>
                <span className="kbd">{k}</span>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
