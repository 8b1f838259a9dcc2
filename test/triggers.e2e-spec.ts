/**
 * Triggers and resumes a user would notice, against the real daemon (issue 16): webhook `include:
 * "request"`, a wrong method (405), two workflows wanting one route (409 on activation); a long-lived
 * trigger (test/fixtures/plugins/ticker) registered on activation and again on every daemon start, whose
 * re-fired events are suppressed by their dedupe key; and a node parked on a resume token, resumed by
 * `POST /api/v1/resume/:token` exactly once.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, listItems, nodeRun, type Execution } from './support/api.js';
import { REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';

const TICKER = path.join(REPO_ROOT, 'test/fixtures/plugins/ticker');
let daemon: Daemon;
let api: Api;
let configFile: string;

beforeAll(async () => {
  // the plugin is listed in a config file of the run (a restart below uses the same file)
  configFile = path.join(currentRun().runDir, `triggers-${uid()}.anchorflow.yaml`);
  writeFileSync(configFile, `plugins:\n  - '${TICKER}'\n`);
  daemon = await startDaemon({ name: 'triggers', env: { ANCHORFLOW_CONFIG: configFile } });
  api = new Api(daemon.url);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
});

interface LogLine { ticker?: string; workflowId?: string; key?: string; executionId?: string; duplicate?: boolean; starts?: number }
function tickerLines(d: Daemon, workflowId: string): LogLine[] {
  return d.logs().split('\n').filter((l) => l.startsWith('{') && l.includes('"ticker"')).map((l) => JSON.parse(l) as LogLine).filter((l) => l.workflowId === workflowId);
}
async function untilLines(d: Daemon, workflowId: string, what: string, pred: (lines: LogLine[]) => boolean, timeoutMs = 20_000): Promise<LogLine[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = tickerLines(d, workflowId);
    if (pred(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; ticker lines: ${JSON.stringify(lines)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function executionsOf(workflowId: string): Promise<Execution[]> {
  const res = await api.get(`/api/v1/executions?workflowId=${workflowId}&limit=100`);
  expect(res.status).toBe(200);
  return listItems<Execution>(res.body);
}

describe('webhooks', () => {
  it('include "request": the node emits {body, headers, query, method, path}', async () => {
    const hookPath = `e2e/request-${uid()}`;
    const created = await api.createWorkflow(workflow(`hook request ${uid()}`, [
      node('hook', 'core.trigger.webhook', { path: hookPath, method: 'PUT', respond: 'lastNode', publicOutput: true, include: 'request' }),
      node('echo', 'core.set', { fields: { echoed: true } }),
    ], chain('hook', 'echo')));
    await api.activate(created.id);
    const res = await api.put(`/hooks/${hookPath}?a=1&b=two`, { order: 7 }, { headers: { 'x-trace': 'abc' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      body: { order: 7 }, headers: expect.objectContaining({ 'x-trace': 'abc', 'content-type': 'application/json' }),
      query: { a: '1', b: 'two' }, method: 'PUT', path: hookPath, echoed: true,
    });
  });

  it('a method the webhook does not accept is 405 METHOD_NOT_ALLOWED, naming the one it does', async () => {
    const hookPath = `e2e/method-${uid()}`;
    const created = await api.createWorkflow(workflow(`hook method ${uid()}`, [
      node('hook', 'core.trigger.webhook', { path: hookPath, method: 'POST' }), node('n', 'core.noop'),
    ], chain('hook', 'n')));
    await api.activate(created.id);
    const res = await api.get(`/hooks/${hookPath}`);
    expect({ status: res.status, code: res.body?.error?.code, details: res.body?.error?.details }).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED', details: { allowed: ['POST'] } });
    expect(await executionsOf(created.id)).toEqual([]);
    expect((await api.post(`/hooks/${hookPath}`, {})).status).toBe(202);
  });

  it('a second workflow cannot take an active route: activation is 409 CONFLICT and the first keeps it', async () => {
    const hookPath = `e2e/taken-${uid()}`;
    const mk = (mark: string) => workflow(`hook ${mark} ${uid()}`, [
      node('hook', 'core.trigger.webhook', { path: hookPath, method: 'POST', respond: 'lastNode', publicOutput: true }), node('mark', 'core.set', { fields: { mark } }),
    ], chain('hook', 'mark'));
    const first = await api.createWorkflow(mk('first'));
    const second = await api.createWorkflow(mk('second'));
    await api.activate(first.id);
    const refused = await api.post(`/api/v1/workflows/${second.id}/activate`);
    expect({ status: refused.status, code: refused.body?.error?.code }).toEqual({ status: 409, code: 'CONFLICT' });
    expect(refused.body.error.message).toContain(hookPath);
    expect((await api.getWorkflow(second.id)).active).toBe(false);
    const res = await api.post(`/hooks/${hookPath}`, { x: 1 });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { x: 1, mark: 'first' } });
    // once the first lets go, the second may have it
    await api.deactivate(first.id);
    await api.activate(second.id);
    expect((await api.post(`/hooks/${hookPath}`, { x: 2 })).body).toEqual({ x: 2, mark: 'second' });
  });
});

describe('long-lived triggers', () => {
  it('start on activation and on every daemon start; events fired again are suppressed by their dedupe key', async () => {
    const created = await api.createWorkflow(workflow(`ticker ${uid()}`, [node('tick', 'ticker.events'), node('n', 'core.noop')], chain('tick', 'n')));
    const wf = created.id;
    expect(tickerLines(daemon, wf)).toEqual([]); // not active: not started
    await api.activate(wf);
    let lines = await untilLines(daemon, wf, 'five events fired', (l) => l.filter((x) => x.ticker === 'fired').length === 5);
    const fired = lines.filter((l) => l.ticker === 'fired');
    expect(fired.map((l) => [l.key, l.duplicate])).toEqual([['a', false], ['b', false], ['a', true], ['c', false], ['b', true]]);
    // a duplicate answers with the execution its key started
    expect(fired[2]!.executionId).toBe(fired[0]!.executionId);
    expect(fired[4]!.executionId).toBe(fired[1]!.executionId);
    const ids = new Set(fired.map((l) => l.executionId));
    expect(ids.size).toBe(3);

    // deactivate stops it; activating again starts it again, and nothing new runs
    await api.deactivate(wf);
    await untilLines(daemon, wf, 'the ticker stopped', (l) => l.some((x) => x.ticker === 'stopped'));
    await api.activate(wf);
    lines = await untilLines(daemon, wf, 'ten events fired', (l) => l.filter((x) => x.ticker === 'fired').length === 10);
    expect(lines.filter((l) => l.ticker === 'fired').slice(5).map((l) => l.duplicate)).toEqual([true, true, true, true, true]);

    // a restarted daemon registers the active workflow's trigger by itself
    await daemon.stop();
    daemon = await startDaemon({ name: 'triggers-restart', dataDir: daemon.dataDir, env: { ANCHORFLOW_CONFIG: configFile } });
    api = new Api(daemon.url);
    lines = await untilLines(daemon, wf, 'five events fired after the restart', (l) => l.filter((x) => x.ticker === 'fired').length === 5);
    expect(lines.filter((l) => l.ticker === 'fired').map((l) => [l.key, l.duplicate, l.starts])).toEqual([['a', true, 3], ['b', true, 3], ['a', true, 3], ['c', true, 3], ['b', true, 3]]);
    const executions = await executionsOf(wf);
    expect(executions.map((e) => e.id).sort()).toEqual([...ids].sort());
    for (const e of executions) expect((await api.waitForStatus(e.id, 'succeeded')).status).toBe('succeeded');
  }, 120_000);
});

describe('resume by token over HTTP', () => {
  it('POST /api/v1/resume/:token wakes the parked node once, with the data', async () => {
    const created = await api.createWorkflow(workflow(`approval ${uid()}`, [manual(), node('approve', 'ticker.approval'), node('after', 'core.set', { fields: { done: true } })], chain('start', 'approve', 'after')));
    const id = await api.startExecution(created.id, { order: 9 });
    const waiting = await api.waitForStatus(id, 'waiting');
    const token = `approve_${id}_approve`;
    expect(nodeRun(waiting, 'approve')).toMatchObject({ status: 'waiting', resumeToken: token });

    const wrong = await api.post(`/api/v1/resume/${token}x`, { data: {} });
    expect({ status: wrong.status, code: wrong.body?.error?.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    const res = await api.post(`/api/v1/resume/${token}`, { data: { approvedBy: 'ada' } });
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { id, executionId: id, status: 'running', nodeId: 'approve' } });
    const done = await api.waitForStatus(id, 'succeeded');
    expect(nodeRun(done, 'after').output).toEqual({ main: { input: { order: 9 }, resumed: 'signal', data: { approvedBy: 'ada' }, done: true } });
    // the token is spent
    const again = await api.post(`/api/v1/resume/${token}`, { data: { approvedBy: 'eve' } });
    expect({ status: again.status, code: again.body?.error?.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    const events = await api.events(id);
    expect(events.filter((e) => e.type === 'node.resumed')).toHaveLength(1);
  });
});
