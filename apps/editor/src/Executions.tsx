import { useEffect, useState } from 'react';
import { api } from './api';

export interface NodeRun {
  nodeId: string;
  status: string;
  attempt: number;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  startedAt?: number | string;
  finishedAt?: number | string;
}

export function NodeRunDetails({ executionId, nodeId, onClose }: { executionId: string; nodeId: string; onClose: () => void }) {
  const [run, setRun] = useState<NodeRun | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ nodeRuns: NodeRun[] }>('GET', `/executions/${executionId}`).then((e) => setRun(e.nodeRuns.find((r) => r.nodeId === nodeId) ?? null), (e) => setError(e.message));
  }, [executionId, nodeId]);
  return (
    <aside className="panel details" data-testid="node-run">
      <div className="toolbar">
        <h3>Run of {nodeId}</h3>
        <button onClick={onClose}>×</button>
      </div>
      {error && <p className="error">{error}</p>}
      {run === undefined ? <p>Loading…</p> : run === null ? <p>This node did not run.</p> : (
        <dl>
          <dt>Status</dt><dd data-testid="node-run-status">{run.status}</dd>
          <dt>Attempts</dt><dd>{run.attempt}</dd>
          <dt>Input</dt><dd><pre>{JSON.stringify(run.input, null, 2)}</pre></dd>
          <dt>Output</dt><dd><pre data-testid="node-run-output">{JSON.stringify(run.output, null, 2)}</pre></dd>
          {run.error !== undefined && run.error !== null && (<><dt>Error</dt><dd><pre className="error">{JSON.stringify(run.error, null, 2)}</pre></dd></>)}
        </dl>
      )}
    </aside>
  );
}

interface ExecutionSummary {
  id: string;
  workflowId: string;
  version?: number;
  workflowVersion?: number;
  status: string;
  startedAt: number | string;
  finishedAt?: number | string;
}

const STATUSES = ['', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];

/** The executions list with filters (workflow, status); a row opens the workflow with that run shown. */
export function Executions({ workflowId: initialWorkflow, onOpen }: { workflowId?: string; onOpen?: (id: string) => void }) {
  const [workflowId, setWorkflowId] = useState(initialWorkflow ?? '');
  const [status, setStatus] = useState('');
  const [items, setItems] = useState<ExecutionSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const q = new URLSearchParams({ limit: '100' });
    if (workflowId) q.set('workflowId', workflowId);
    if (status) q.set('status', status);
    api<{ items: ExecutionSummary[] }>('GET', `/executions?${q}`).then((r) => { setItems(r.items); setError(null); }, (e) => setError(e.message));
  }, [workflowId, status]);
  return (
    <div className="list" data-testid="executions">
      <div className="toolbar">
        <h2>Executions</h2>
        <input placeholder="workflow id" value={workflowId} onChange={(e) => setWorkflowId(e.target.value.trim())} />
        <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="status">
          {STATUSES.map((s) => <option key={s} value={s}>{s || 'any status'}</option>)}
        </select>
      </div>
      {error && <p className="error">{error}</p>}
      <table>
        <thead><tr><th>Execution</th><th>Workflow</th><th>Status</th><th>Started</th><th>Finished</th></tr></thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id} className="row" onClick={() => (onOpen ? onOpen(e.id) : (location.hash = `workflow/${e.workflowId}/${e.id}`))}>
              <td>{e.id.slice(0, 8)}</td><td>{e.workflowId.slice(0, 8)} v{e.workflowVersion ?? e.version}</td>
              <td className={`status-${e.status}`}>{e.status}</td>
              <td>{new Date(e.startedAt).toLocaleString()}</td><td>{e.finishedAt ? new Date(e.finishedAt).toLocaleString() : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
