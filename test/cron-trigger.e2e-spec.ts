/**
 * core.trigger.cron against real daemons, in real time with a seconds field (issue 11). The clock-driven
 * cases (time zones, daylight saving, each catch-up policy, retries) are in the node's unit spec.
 * - two daemons on one PostgreSQL: the holder of the trigger's lease starts each second; when it is
 *   SIGKILLed the other takes over and catches up; every second of the whole run starts exactly one
 *   execution (dedupe key = workflow + instant);
 * - every daemon down for a few seconds: `catchUp: "all"` starts the missed seconds after the restart,
 *   `catchUp: "none"` leaves them out.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Api, listItems, type Execution } from './support/api.js';
import { sharedDatabase, startDaemon, type Daemon } from './support/daemon.js';
import { chain, node, uid, workflow } from './support/graph.js';
import { until } from './support/until.js';

const daemons: Daemon[] = [];
afterAll(async () => {
  await Promise.all(daemons.map((d) => (d.hasExited() ? undefined : d.stop())));
});

async function daemon(name: string, options: { databaseUrl?: string; dataDir?: string } = {}): Promise<{ daemon: Daemon; api: Api }> {
  const d = await startDaemon({ name, ...options, env: { ANCHORFLOW_CLUSTER_LEASE_MS: '2000' } });
  daemons.push(d);
  return { daemon: d, api: new Api(d.url) };
}

function everySecond(name: string, catchUp: string) {
  return workflow(name, [node('tick', 'core.trigger.cron', { cron: '* * * * * *', catchUp }), node('done', 'core.noop')], chain('tick', 'done'));
}

interface Fired {
  scheduledAt: string;
  firedAt: string;
}
/** the {scheduledAt, firedAt} inputs of a workflow's executions, by scheduledAt */
async function firedOf(api: Api, workflowId: string): Promise<Fired[]> {
  const res = await api.get(`/api/v1/executions?workflowId=${workflowId}&limit=200`);
  expect(res.status).toBe(200);
  const items = listItems<Execution>(res.body);
  const inputs = await Promise.all(items.map(async (e) => (e.input !== undefined ? e.input : (await api.getExecution(e.id)).input) as Fired));
  return inputs.sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt));
}
const ms = (iso: string) => Date.parse(iso);
/** whole seconds from the first to the last, each once */
function expectEverySecondOnce(fired: Fired[]): void {
  const at = fired.map((f) => ms(f.scheduledAt));
  expect(new Set(at).size).toBe(at.length);
  for (const t of at) expect(t % 1000).toBe(0);
  const gaps = at.slice(1).map((t, i) => t - at[i]!).filter((d) => d !== 1000);
  expect(gaps).toEqual([]);
  for (const f of fired) expect(ms(f.firedAt)).toBeGreaterThanOrEqual(ms(f.scheduledAt));
}

const sharedDb = await sharedDatabase();
(sharedDb ? describe : describe.skip)('cron on two daemons sharing PostgreSQL', () => {
  it('each second starts one execution, across a SIGKILL of the daemon running the trigger', async () => {
    const a = await daemon('cron-a', { databaseUrl: sharedDb });
    const wf = await a.api.createWorkflow(everySecond(`cron cluster ${uid()}`, 'all'));
    await a.api.activate(wf.id);
    // b loads the active workflow at start-up and stands by for the trigger's lease
    const b = await daemon('cron-b', { databaseUrl: sharedDb });
    await until('three seconds started', async () => ((await firedOf(a.api, wf.id)).length >= 3 ? true : undefined), 30_000);
    const holder = [a, b].find((x) => x.daemon.logs().includes('"event":"cron.fired"'))!;
    const other = holder === a ? b : a;
    expect(other.daemon.logs()).not.toContain('"event":"cron.fired"');
    const before = (await firedOf(other.api, wf.id)).length;
    expect((await holder.daemon.kill()).signal).toBe('SIGKILL');
    await until('the survivor started three more seconds', async () => (other.daemon.logs().split('"event":"cron.fired"').length > 3 ? true : undefined), 30_000);
    await other.api.deactivate(wf.id);
    const fired = await firedOf(other.api, wf.id);
    expect(fired.length).toBeGreaterThanOrEqual(before + 3);
    expectEverySecondOnce(fired);
    // deactivated: the schedule is off (an absence cannot be awaited: two scheduled seconds pass)
    const off = Date.now();
    await until('two seconds after the deactivation', async () => (Date.now() - off >= 2000 ? true : undefined));
    expect(await firedOf(other.api, wf.id)).toHaveLength(fired.length);
  }, 180_000);
});

describe('cron after every daemon was down', () => {
  it('catchUp "all" starts the missed seconds after the restart; "none" skips them', async () => {
    const first = await daemon('cron-downtime');
    const all = await first.api.createWorkflow(everySecond(`cron all ${uid()}`, 'all'));
    const none = await first.api.createWorkflow(everySecond(`cron none ${uid()}`, 'none'));
    await first.api.activate(all.id);
    await first.api.activate(none.id);
    await until('both started a second', async () => ((await firedOf(first.api, all.id)).length >= 2 && (await firedOf(first.api, none.id)).length >= 2 ? true : undefined), 30_000);
    await first.daemon.kill();
    const down = Date.now();
    // the downtime is the point of the test: several scheduled seconds pass with no daemon running
    await until('four seconds of downtime', async () => (Date.now() - down >= 4000 ? true : undefined));
    const second = await daemon('cron-downtime', { dataDir: first.daemon.dataDir, databaseUrl: first.daemon.databaseUrl });
    const restarted = second.daemon.readyAt;
    await until('both started seconds after the restart', async () => {
      const [x, y] = await Promise.all([firedOf(second.api, all.id), firedOf(second.api, none.id)]);
      return x.filter((f) => ms(f.scheduledAt) > restarted).length >= 2 && y.filter((f) => ms(f.scheduledAt) > restarted).length >= 2 ? true : undefined;
    }, 30_000);
    await second.api.deactivate(all.id);
    await second.api.deactivate(none.id);

    const withAll = await firedOf(second.api, all.id);
    expectEverySecondOnce(withAll);
    expect(withAll.filter((f) => ms(f.scheduledAt) > down && ms(f.scheduledAt) < restarted - 1000).length).toBeGreaterThanOrEqual(2);
    const caughtUp = withAll.filter((f) => ms(f.firedAt) - ms(f.scheduledAt) >= 2000);
    expect(caughtUp.length).toBeGreaterThanOrEqual(2);

    const withNone = await firedOf(second.api, none.id);
    const at = withNone.map((f) => ms(f.scheduledAt));
    expect(new Set(at).size).toBe(at.length);
    // nothing started for the seconds while no daemon ran (4 s or more of them), and nothing late
    const longest = Math.max(...at.slice(1).map((t, i) => t - at[i]!));
    expect(longest).toBeGreaterThanOrEqual(4000);
    expect(withNone.filter((f) => ms(f.scheduledAt) > down + 1000 && ms(f.scheduledAt) < down + 4000)).toEqual([]);
    expect(second.daemon.logs()).toContain('"event":"cron.skipped"');
  }, 180_000);
});
