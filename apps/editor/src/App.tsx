import { useCallback, useEffect, useState } from 'react';
import { api, getToken, HttpError, login, onAuthRequired } from './api';
import { reconnectSocket } from './collab';
import { WorkflowEditor } from './WorkflowEditor';
import { Executions } from './Executions';

function useHash(): [string, (h: string) => void] {
  const [hash, setHash] = useState(location.hash.slice(1));
  useEffect(() => {
    const on = () => setHash(location.hash.slice(1));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return [hash, (h) => (location.hash = h)];
}

export function Login({ onDone, again }: { onDone: () => void; again?: boolean }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      await login(key);
      setError(null);
      onDone();
    } catch (err) {
      setError(err instanceof HttpError && err.status === 401 ? 'That API key was not accepted (unknown, expired or revoked).' : String((err as Error).message));
    }
  };
  return (
    <div className={again ? 'modal' : 'login-page'}>
      <form className="login" onSubmit={submit} data-testid="login">
        <h1>Anchorflow</h1>
        {again && <p className="warn">Your session expired. Log in again: your unsaved edits are kept and will be sent afterwards.</p>}
        <label>
          API key
          <input name="apiKey" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} placeholder="afk_…" autoFocus />
        </label>
        <button type="submit" disabled={!key.trim()}>Log in</button>
        {error && <p className="error" role="alert">{error}</p>}
      </form>
    </div>
  );
}

interface WorkflowSummary {
  id: string;
  name: string;
  version: number;
  active: boolean;
  nodeCount: number;
  updatedAt: string;
}

function WorkflowList({ open }: { open: (id: string) => void }) {
  const [items, setItems] = useState<WorkflowSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api<{ items: WorkflowSummary[] }>('GET', '/workflows?limit=200').then((r) => setItems(r.items), (e) => setError(e.message));
  }, []);
  useEffect(load, [load]);
  const create = async () => {
    const name = prompt('Name of the new workflow', 'Untitled workflow');
    if (!name) return;
    const wf = await api('POST', '/workflows', { name, nodes: [{ id: 'start', type: 'core.trigger.manual', params: {}, position: { x: 0, y: 0 } }], edges: [] });
    open(wf.id);
  };
  const importFile = async (file: File) => {
    try {
      const def = JSON.parse(await file.text());
      const { id: _i, version: _v, active: _a, createdAt: _c, updatedAt: _u, ...body } = def;
      const wf = await api('POST', '/workflows', body);
      open(wf.id);
    } catch (e) {
      setError(`import failed: ${(e as Error).message}`);
    }
  };
  return (
    <div className="list">
      <div className="toolbar">
        <h2>Workflows</h2>
        <button onClick={create}>New workflow</button>
        <label className="button">
          Import…
          <input type="file" accept="application/json,.json" hidden onChange={(e) => e.target.files?.[0] && importFile(e.target.files[0])} />
        </label>
        <a className="button" href="#executions">Executions</a>
      </div>
      {error && <p className="error">{error}</p>}
      {!items ? (
        <p>Loading…</p>
      ) : (
        <table>
          <thead>
            <tr><th>Name</th><th>Version</th><th>Nodes</th><th>Active</th><th>Updated</th></tr>
          </thead>
          <tbody>
            {items.map((w) => (
              <tr key={w.id} onClick={() => open(w.id)} className="row" data-workflow-id={w.id}>
                <td>{w.name}</td><td>{w.version}</td><td>{w.nodeCount}</td><td>{w.active ? 'yes' : 'no'}</td><td>{new Date(w.updatedAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function App() {
  const [authed, setAuthed] = useState(!!getToken());
  const [expired, setExpired] = useState(false);
  const [hash, go] = useHash();
  useEffect(() => onAuthRequired(() => setExpired(true)), []);
  if (!authed) return <Login onDone={() => { setAuthed(true); reconnectSocket(); }} />;
  const [view, arg, arg2] = hash.split('/');
  return (
    <div className="app">
      <header>
        <a href="#">Anchorflow</a>
        <nav>
          <a href="#">Workflows</a>
          <a href="#executions">Executions</a>
        </nav>
        <button className="link" onClick={() => { localStorage.removeItem('anchorflow.editor.token'); setAuthed(false); }}>Log out</button>
      </header>
      <main>
        {view === 'workflow' && arg ? <WorkflowEditor key={arg} workflowId={arg} initialExecution={arg2} /> : view === 'executions' ? <Executions workflowId={arg} /> : <WorkflowList open={(id) => go(`workflow/${id}`)} />}
      </main>
      {expired && <Login again onDone={() => { setExpired(false); reconnectSocket(); }} />}
    </div>
  );
}
