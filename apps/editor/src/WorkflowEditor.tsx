import {
  applyNodeChanges, Background, Controls, Handle, type Connection, type Edge, type Node, type NodeChange, type NodeProps, Position, ReactFlow, ReactFlowProvider,
} from '@xyflow/react';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { applyOps, edgeKey, opsBetween, type OpsDefinition, type OpsEdge, type OpsNode, type WorkflowOp } from '../../daemon/src/editor/workflow-ops';
import { api, type NodeTypeInfo } from './api';
import { type CollabState, editorSocket, type Problem, WorkflowSession } from './collab';
import { Executions, NodeRunDetails } from './Executions';
import { ParamsForm } from './ParamsForm';

interface NodeStatusInfo {
  status: string;
  attempt: number;
}

type AfNodeData = {
  label: string;
  type: string;
  inputs: string[];
  outputs: string[];
  status?: string;
  problems: Problem[];
  others: string[];
};

const AfNode = memo(({ id, data, selected }: NodeProps<Node<AfNodeData>>) => (
  <div className={`af-node ${data.status ? `status-${data.status}` : ''} ${selected ? 'selected' : ''} ${data.problems.length ? 'invalid' : ''}`} data-node-id={id} data-status={data.status ?? ''} title={data.problems.map((p) => p.message).join('\n')}>
    {data.inputs.map((p, i) => (
      <Handle key={p} id={p} type="target" position={Position.Left} style={{ top: `${((i + 1) * 100) / (data.inputs.length + 1)}%` }} title={p} />
    ))}
    <div className="af-node-title">{data.label}</div>
    <div className="af-node-type">{data.type}</div>
    {data.problems.length > 0 && <div className="af-node-problem" data-testid="node-problem">⚠ {data.problems[0]!.message}</div>}
    {data.others.length > 0 && <div className="af-node-others">👤 {data.others.join(', ')}</div>}
    {data.outputs.map((p, i) => (
      <Handle key={p} id={p} type="source" position={Position.Right} style={{ top: `${((i + 1) * 100) / (data.outputs.length + 1)}%` }} title={p}>
        {data.outputs.length > 1 && <span className="port-label">{p}</span>}
      </Handle>
    ))}
  </div>
));

const nodeTypes = { af: AfNode };

function uniqueId(def: OpsDefinition, base: string): string {
  const stem = base.replace(/[^A-Za-z0-9_-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'node';
  const taken = new Set(def.nodes.map((n) => n.id));
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

function useCollab(workflowId: string): [WorkflowSession, CollabState] {
  const session = useMemo(() => new WorkflowSession(workflowId), [workflowId]);
  const [state, setState] = useState(session.state);
  useEffect(() => {
    const off = session.subscribe(setState);
    return () => {
      off();
      session.close();
    };
  }, [session]);
  return [session, state];
}

function Editor({ workflowId, initialExecution }: { workflowId: string; initialExecution?: string }) {
  const [session, state] = useCollab(workflowId);
  const [types, setTypes] = useState<NodeTypeInfo[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [rfNodes, setRfNodes] = useState<Array<Node<AfNodeData>>>([]);
  const [executionId, setExecutionId] = useState<string | null>(initialExecution ?? null);
  const [statuses, setStatuses] = useState<Record<string, NodeStatusInfo>>({});
  const [executionStatus, setExecutionStatus] = useState<string | null>(null);
  const [runInput, setRunInput] = useState('{}');
  const [panel, setPanel] = useState<'node' | 'run' | 'history' | 'executions'>('node');
  const [runDetails, setRunDetails] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const undo = useRef<Array<{ ops: WorkflowOp[]; inverse: WorkflowOp[] }>>([]);
  const redo = useRef<Array<{ ops: WorkflowOp[]; inverse: WorkflowOp[] }>>([]);
  const clipboard = useRef<string | null>(null);
  const view = state.view;

  useEffect(() => {
    api<{ items: NodeTypeInfo[] }>('GET', '/node-types').then((r) => setTypes(r.items), () => undefined);
  }, []);
  const typeOf = useCallback((t: string) => types.find((x) => x.type === t), [types]);

  /** a local edit: applied at once, sent as a patch, undoable */
  const edit = useCallback(
    (ops: WorkflowOp[], options: { record?: boolean } = {}) => {
      if (!view || ops.length === 0) return;
      let after: OpsDefinition;
      try {
        after = applyOps(view, ops);
      } catch (err) {
        setMessage((err as Error).message);
        return;
      }
      const inverse = opsBetween(after, view);
      if (options.record !== false) {
        undo.current.push({ ops, inverse });
        redo.current = [];
      }
      session.edit(ops, inverse);
    },
    [view, session],
  );

  // live execution: state first, then node:status events
  useEffect(() => {
    if (!executionId) return;
    const socket = editorSocket();
    setStatuses({});
    setExecutionStatus('running');
    const onState = (m: any) => {
      if (m.executionId !== executionId) return;
      setStatuses(Object.fromEntries(m.nodes.map((n: any) => [n.nodeId, { status: n.status, attempt: n.attempt }])));
      setExecutionStatus(m.status);
    };
    const onStatus = (m: any) => m.executionId === executionId && setStatuses((s) => ({ ...s, [m.nodeId]: { status: m.status, attempt: m.attempt } }));
    const onFinished = (m: any) => m.executionId === executionId && setExecutionStatus(m.status);
    const watch = () => socket.emit('execution:watch', { v: 1, executionId });
    socket.on('execution:state', onState);
    socket.on('node:status', onStatus);
    socket.on('execution:finished', onFinished);
    socket.on('connect', watch);
    if (socket.connected) watch();
    return () => {
      socket.off('execution:state', onState);
      socket.off('node:status', onStatus);
      socket.off('execution:finished', onFinished);
      socket.off('connect', watch);
      if (socket.connected) socket.emit('execution:unwatch', { v: 1, executionId });
    };
  }, [executionId]);

  const problemsByNode = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of state.problems) {
      const id = p.nodeId ?? /^\$\.nodes\[(\d+)\]/.exec(p.path)?.[1];
      const nodeId = p.nodeId ?? (id !== undefined && view ? view.nodes[Number(id)]?.id : undefined);
      if (nodeId) m.set(nodeId, [...(m.get(nodeId) ?? []), p]);
    }
    return m;
  }, [state.problems, view]);

  // the canvas follows the definition (rebuilt when it changes), keeping local drag state in between
  useEffect(() => {
    if (!view) return;
    const me = editorSocket().id;
    setRfNodes(
      view.nodes.map((n, i) => {
        const t = typeOf(n.type);
        const others = state.presence.filter((u) => u.socketId !== me && u.selectedNodeId === n.id).map((u) => u.name);
        return {
          id: n.id,
          type: 'af',
          position: n.position ?? { x: i * 240, y: 0 },
          selected: n.id === selected,
          data: {
            label: n.id, type: n.type,
            inputs: t ? t.inputs : n.type.includes('trigger') ? [] : ['main'],
            outputs: t ? (t.outputs === 'dynamic' ? outputsOf(n, view) : t.outputs) : ['main'],
            status: statuses[n.id]?.status, problems: problemsByNode.get(n.id) ?? [], others,
          },
        };
      }),
    );
  }, [view, typeOf, statuses, problemsByNode, state.presence, selected]);

  const rfEdges: Edge[] = useMemo(
    () => (view?.edges ?? []).map((e) => ({ id: edgeKey(e), source: e.from, target: e.to, sourceHandle: e.fromPort ?? 'main', targetHandle: e.toPort ?? 'main', animated: statuses[e.from]?.status === 'running' })),
    [view, statuses],
  );

  const onNodesChange = useCallback((changes: NodeChange<Node<AfNodeData>>[]) => {
    setRfNodes((nds) => applyNodeChanges(changes.filter((c) => c.type !== 'remove'), nds));
    for (const c of changes) if (c.type === 'select' && c.selected) setSelected(c.id);
  }, []);

  useEffect(() => session.select(selected), [selected, session]);

  const onConnect = useCallback((c: Connection) => {
    const edge: OpsEdge = { from: c.source, to: c.target };
    if (c.sourceHandle && c.sourceHandle !== 'main') edge.fromPort = c.sourceHandle;
    if (c.targetHandle && c.targetHandle !== 'main') edge.toPort = c.targetHandle;
    edit([{ op: 'connect', edge }]);
  }, [edit]);

  const addNode = (t: NodeTypeInfo) => {
    if (!view) return;
    const id = uniqueId(view, t.type.split('.').pop() ?? 'node');
    const maxX = Math.max(0, ...view.nodes.map((n) => n.position?.x ?? 0));
    const node: OpsNode = { id, type: t.type, params: defaultsOf(t.paramsSchema), position: { x: maxX + 240, y: 0 } };
    edit([{ op: 'addNode', node }]);
    setSelected(id);
  };

  const autoLayout = async () => {
    if (!view) return;
    const laid = await api<{ nodes: Array<{ id: string; position: { x: number; y: number } }> }>('POST', '/workflows/layout', { nodes: view.nodes, edges: view.edges });
    edit(laid.nodes.filter((n) => n.position).map((n) => ({ op: 'moveNode', id: n.id, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } })));
  };

  const run = async () => {
    let input: unknown;
    try {
      input = JSON.parse(runInput || '{}');
    } catch (err) {
      setMessage(`input is not JSON: ${(err as Error).message}`);
      return;
    }
    try {
      const answer = await api('POST', `/workflows/${workflowId}/executions`, { input });
      setRunDetails(null);
      setExecutionId(answer.executionId ?? answer.id);
      setMessage(null);
    } catch (err) {
      setMessage(`run refused: ${(err as Error).message}`);
    }
  };

  const copy = useCallback(() => {
    if (!view || !selected) return;
    const ids = new Set(rfNodes.filter((n) => n.selected).map((n) => n.id).concat(selected));
    const json = JSON.stringify({ nodes: view.nodes.filter((n) => ids.has(n.id)), edges: view.edges.filter((e) => ids.has(e.from) && ids.has(e.to)) }, null, 2);
    clipboard.current = json;
    void navigator.clipboard?.writeText(json).catch(() => undefined);
    setMessage(`copied ${ids.size} node(s) as workflow JSON`);
  }, [view, selected, rfNodes]);

  const paste = useCallback(async (text?: string) => {
    if (!view) return;
    let raw = text ?? clipboard.current;
    if (!raw) raw = await navigator.clipboard?.readText().catch(() => null) ?? null;
    if (!raw) return;
    let parsed: { nodes?: OpsNode[]; edges?: OpsEdge[] };
    try {
      parsed = JSON.parse(raw);
    } catch {
      setMessage('the clipboard holds no workflow JSON');
      return;
    }
    let scratch = view;
    const rename = new Map<string, string>();
    const ops: WorkflowOp[] = [];
    for (const n of parsed.nodes ?? []) {
      const id = uniqueId(scratch, n.id);
      rename.set(n.id, id);
      const node = { ...n, id, position: { x: (n.position?.x ?? 0) + 40, y: (n.position?.y ?? 0) + 40 } };
      ops.push({ op: 'addNode', node });
      scratch = applyOps(scratch, [{ op: 'addNode', node }]);
    }
    for (const e of parsed.edges ?? []) if (rename.has(e.from) && rename.has(e.to)) ops.push({ op: 'connect', edge: { ...e, from: rename.get(e.from)!, to: rename.get(e.to)! } });
    edit(ops);
  }, [view, edit]);

  const doUndo = useCallback(() => {
    const last = undo.current.pop();
    if (!last) return;
    redo.current.push(last);
    edit(last.inverse, { record: false });
  }, [edit]);
  const doRedo = useCallback(() => {
    const last = redo.current.pop();
    if (!last) return;
    undo.current.push(last);
    edit(last.ops, { record: false });
  }, [edit]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest('input, textarea, select')) return;
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key === 'z' && !e.shiftKey) { e.preventDefault(); doUndo(); }
      else if (mod && (e.key === 'y' || (e.key === 'z' && e.shiftKey) || e.key === 'Z')) { e.preventDefault(); doRedo(); }
      else if (mod && e.key === 'c') copy();
      else if (mod && e.key === 'v') void paste();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [doUndo, doRedo, copy, paste]);

  const exportFile = () => {
    if (!view) return;
    const blob = new Blob([JSON.stringify(view, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${view.name.replace(/[^A-Za-z0-9_-]+/g, '-')}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  const importInto = async (file: File) => {
    if (!view) return;
    try {
      const def = JSON.parse(await file.text()) as OpsDefinition;
      if (!Array.isArray(def.nodes) || !Array.isArray(def.edges)) throw new Error('a workflow file has nodes and edges');
      edit(opsBetween(view, { ...def, name: def.name ?? view.name }));
    } catch (err) {
      setMessage(`import failed: ${(err as Error).message}`);
    }
  };

  if (!view) return <div className="loading">{state.lastError ?? 'Opening the workflow…'}</div>;
  const selectedNode = view.nodes.find((n) => n.id === selected);
  const palette = [...types].sort((a, b) => (a.category ?? '').localeCompare(b.category ?? '') || a.type.localeCompare(b.type));

  return (
    <div className="editor">
      <div className="toolbar editor-toolbar">
        <input className="wf-name" aria-label="workflow name" defaultValue={view.name} key={view.name} onBlur={(e) => e.target.value.trim() && e.target.value !== view.name && edit([{ op: 'rename', name: e.target.value.trim() }])} />
        <span className="version" data-testid="version">v{state.version}</span>
        <span className={`sync ${state.pending.length ? 'pending' : 'saved'}`} data-testid="sync">
          {!state.connected ? `offline — ${state.pending.length} edit(s) kept` : state.pending.length ? `saving ${state.pending.length}…` : 'saved'}
        </span>
        <button onClick={doUndo} title="Undo (Ctrl+Z)">Undo</button>
        <button onClick={doRedo} title="Redo (Ctrl+Y)">Redo</button>
        <button onClick={autoLayout}>Auto-layout</button>
        <button onClick={copy} disabled={!selected}>Copy</button>
        <button onClick={() => void paste()}>Paste</button>
        <button onClick={exportFile}>Export</button>
        <label className="button">Import…<input type="file" accept="application/json,.json" hidden onChange={(e) => e.target.files?.[0] && importInto(e.target.files[0])} /></label>
        <span className="presence" data-testid="presence">{state.presence.map((u) => u.name).join(', ')}</span>
      </div>
      {message && <div className="banner" onClick={() => setMessage(null)}>{message}</div>}
      {state.conflicts.map((c, i) => (
        <div className="banner conflict" key={c.patch.patchId} data-testid="conflict">
          Not applied — someone changed the same thing: {c.conflicts.map((x) => x.reason).join('; ') || c.message}
          <button onClick={() => session.retryConflict(i)}>Apply mine anyway</button>
          <button onClick={() => session.dismissConflict(i)}>Discard mine</button>
        </div>
      ))}
      <div className="editor-body">
        <aside className="palette" data-testid="palette">
          <h3>Nodes</h3>
          {palette.map((t) => (
            <button key={t.type} className="palette-item" data-type={t.type} onClick={() => addNode(t)} title={t.description}>
              <b>{t.title ?? t.type}</b>
              <small>{t.type}</small>
            </button>
          ))}
        </aside>
        <div className="canvas" data-testid="canvas">
          <ReactFlow
            nodes={rfNodes}
            edges={rfEdges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onNodeDragStop={(_e, _n, nodes) => edit(nodes.map((n) => ({ op: 'moveNode', id: n.id, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } })))}
            onNodesDelete={(nodes) => edit(nodes.map((n) => ({ op: 'removeNode', id: n.id })))}
            onEdgesDelete={(edges) => edit(edges.filter((e) => view.edges.some((x) => edgeKey(x) === e.id)).map((e) => ({ op: 'disconnect', edge: view.edges.find((x) => edgeKey(x) === e.id)! })))}
            onConnect={onConnect}
            onNodeClick={(_e, n) => {
              setSelected(n.id);
              if (executionId && statuses[n.id]) setRunDetails(n.id);
            }}
            onPaneClick={() => setSelected(null)}
            fitView
            deleteKeyCode={['Delete', 'Backspace']}
          >
            <Background />
            <Controls />
          </ReactFlow>
        </div>
        <aside className="panel">
          <div className="tabs">
            {(['node', 'run', 'executions', 'history'] as const).map((p) => (
              <button key={p} className={panel === p ? 'active' : ''} onClick={() => setPanel(p)}>{p}</button>
            ))}
          </div>
          {panel === 'node' && (selectedNode ? (
            <div data-testid="node-panel">
              <h3>{selectedNode.id}</h3>
              <p className="muted">{selectedNode.type}</p>
              {(problemsByNode.get(selectedNode.id) ?? []).map((p, i) => <p key={i} className="error">{p.path}: {p.message}</p>)}
              <ParamsForm
                schema={typeOf(selectedNode.type)?.paramsSchema}
                params={selectedNode.params ?? {}}
                onChange={(key, value) => edit([{ op: 'setParams', id: selectedNode.id, params: { [key]: value === undefined ? null : value } }])}
              />
              <button className="danger" onClick={() => edit([{ op: 'removeNode', id: selectedNode.id }])}>Delete node</button>
            </div>
          ) : (
            <div>
              <p className="muted">Select a node to edit its parameters.</p>
              {state.problems.length > 0 && <h4>Problems</h4>}
              {state.problems.map((p, i) => <p key={i} className="error" data-testid="problem">{p.path}: {p.message}</p>)}
            </div>
          ))}
          {panel === 'run' && (
            <div data-testid="run-panel">
              <label>Input (JSON)<textarea value={runInput} onChange={(e) => setRunInput(e.target.value)} rows={5} /></label>
              <button onClick={run} disabled={state.pending.length > 0} data-testid="run">Run</button>
              {executionId && <p>Execution <code>{executionId.slice(0, 8)}</code>: <b className={`status-${executionStatus}`} data-testid="execution-status">{executionStatus}</b></p>}
              {executionId && <p className="muted">Click a node to see its input, output and error.</p>}
            </div>
          )}
          {panel === 'executions' && <Executions workflowId={workflowId} onOpen={(id) => { setExecutionId(id); setPanel('run'); }} />}
          {panel === 'history' && <History workflowId={workflowId} version={state.version} restore={async (v) => {
            const old = await api('GET', `/workflows/${workflowId}?version=${v}`);
            const { id: _i, version: _v, active: _a, createdAt: _c, updatedAt: _u, ...def } = old;
            edit(opsBetween(view, def as OpsDefinition));
          }} />}
        </aside>
        {runDetails && executionId && <NodeRunDetails executionId={executionId} nodeId={runDetails} onClose={() => setRunDetails(null)} />}
      </div>
    </div>
  );
}

function History({ workflowId, version, restore }: { workflowId: string; version: number; restore: (v: number) => void }) {
  const [versions, setVersions] = useState<Array<{ version: number; by: string | null; at: string; ops: WorkflowOp[] }>>([]);
  useEffect(() => {
    editorSocket().timeout(10_000).emitWithAck('workflow:history', { v: 1, workflowId }).then((a: any) => a.ok && setVersions(a.versions), () => undefined);
  }, [workflowId, version]);
  return (
    <div data-testid="history">
      {versions.map((h) => (
        <div key={h.version} className="history-entry">
          <b>v{h.version}</b> {h.by ?? 'REST API'} <small>{new Date(h.at).toLocaleString()}</small>
          <div className="muted">{h.ops.map((o) => o.op + ('id' in o ? ` ${o.id}` : 'node' in o ? ` ${o.node.id}` : '')).join(', ') || 'created'}</div>
          {h.version !== version && <button onClick={() => restore(h.version)}>Restore</button>}
        </div>
      ))}
    </div>
  );
}

function outputsOf(n: OpsNode, _def: OpsDefinition): string[] {
  // dynamic outputs (switch): its case names, plus the default port
  const cases = (n.params as any)?.cases;
  return Array.isArray(cases) ? [...cases.map((c: any, i: number) => String(c?.port ?? c?.name ?? i)), 'default'] : ['main'];
}

function defaultsOf(schema: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries<any>(schema?.properties ?? {})) if (s && 'default' in s) out[k] = s.default;
  return out;
}

export function WorkflowEditor(props: { workflowId: string; initialExecution?: string }) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}
