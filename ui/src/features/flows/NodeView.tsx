// One IVR node on the canvas: its type, id and summary, a badge for its
// validation errors, and one handle per way out (next, each digit, each rule,
// invalid/timeout…), plus an "add" handle on menus and decisions.
import { memo, useEffect } from "react";
import { Handle, Position, useUpdateNodeInternals, type Node, type NodeProps } from "@xyflow/react";
import { ADD_OPTION, hasAddHandle, infoOf, outputsOf, summary, type FlowNode } from "./model";

export interface NodeData extends Record<string, unknown> {
  node: FlowNode;
  entry: boolean;
  errors: string[];
  /** Simulator: visited (in order), the node the call is at now. */
  visited: boolean;
  current: boolean;
  /** Analytics: visits shown on the node. */
  visits?: number;
  readOnly: boolean;
}

export type IvrNode = Node<NodeData, "ivr">;

function NodeViewInner({ id, data, selected }: NodeProps<IvrNode>) {
  const { node, entry, errors, visited, current, visits, readOnly } = data;
  const info = infoOf(node.type);
  const outs = outputsOf(node);
  const add = readOnly ? null : hasAddHandle(node);
  // A new way out (a digit, a rule) is a new handle: React Flow must measure it
  // before an edge can start there, even when the node keeps its size.
  const updateInternals = useUpdateNodeInternals();
  const handles = `${entry}|${outs.map((o) => o.handle).join("|")}|${add ?? ""}`;
  useEffect(() => updateInternals(id), [handles, id, updateInternals]);
  const text = summary(node);
  const cls = [
    "ivr-node",
    `t-${node.type}`,
    selected ? "selected" : "",
    errors.length ? "has-errors" : "",
    visited ? "visited" : "",
    current ? "current" : "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <div
      className={cls}
      data-testid="ivr-node"
      data-node={node.id}
      data-type={node.type}
      data-visited={visited || undefined}
      data-current={current || undefined}
      title={errors.length ? errors.join("\n") : info.blurb}
    >
      {!entry && <Handle type="target" position={Position.Top} className="ivr-in" isConnectable={!readOnly} />}
      <div className="ivr-node-head">
        <span aria-hidden="true" className="glyph">
          {info.glyph}
        </span>
        <span className="ivr-type">{info.label}</span>
        {entry && <span className="ivr-entry">start</span>}
        {errors.length > 0 && (
          <span className="ivr-err-badge" aria-label={`${errors.length} problem(s)`}>
            ⚠ {errors.length}
          </span>
        )}
        {visits !== undefined && (
          <span className="ivr-visits" aria-label={`${visits} visits`}>
            {visits}
          </span>
        )}
      </div>
      <div className="ivr-node-id">
        <span className="mono">{node.id}</span>
        {typeof node.label === "string" && node.label && <> · {node.label}</>}
      </div>
      {text && <div className="ivr-node-text">{text}</div>}
      {errors.length > 0 && <div className="ivr-node-error">{errors[0]}</div>}
      {(outs.length > 0 || add) && (
        <div className="ivr-outs">
          {outs.map((o) => (
            <div
              key={o.handle}
              className={`ivr-out${o.fallback ? " fallback" : ""}${o.target ? "" : " open"}`}
              data-handle={o.handle}
            >
              <span>{o.label}</span>
              <Handle type="source" id={o.handle} position={Position.Bottom} isConnectable={!readOnly} />
            </div>
          ))}
          {add && (
            <div
              className="ivr-out add"
              data-handle={add}
              title={add === ADD_OPTION ? "Drag to add a digit" : "Drag to add a rule"}
            >
              <span>+</span>
              <Handle type="source" id={add} position={Position.Bottom} isConnectable />
            </div>
          )}
        </div>
      )}
    </div>
  );
}

export const NodeView = memo(NodeViewInner);
