import { type LogEntry, type ObserverStatus, type Registration, replay, stateHash } from '@anchorflow/plugin-payment-observer';
import { CliApi } from '../api-client.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

type Observer = Registration & { active?: boolean; status: ObserverStatus | null };

export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const full = Math.round(ratio * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${(ratio * 100).toFixed(1).padStart(5)}%`;
}

function statusLine(o: Observer): string {
  const line = progressLine(o);
  // paused: its workflow is deactivated, so the follower does not follow it (it follows on when activated)
  return o.active === false ? `${line}  paused (workflow inactive)` : line;
}

function progressLine(o: Observer): string {
  const s = o.status;
  if (!s || s.head === undefined) return `${o.id}  ${o.network}  waiting for the follower${s?.lastError ? `  error: ${s.lastError}` : ''}`;
  const span = Math.max(1, s.head - o.startBlock + 1);
  const done = Math.max(0, (s.block ?? o.startBlock - 1) - o.startBlock + 1);
  return `${o.id}  ${o.network}  ${progressBar(done, span)}  block ${s.block}/${s.head}  behind ${s.behind ?? '?'}  ${s.eventsPerSecond ?? 0} ev/s  ${s.events} events${s.lastError ? `  error: ${s.lastError}` : ''}`;
}

/** `observer status [id]`: one progress line per observer; --follow repeats until Ctrl-C (or, with --until-synced, until none is behind). */
export async function observerStatus(io: CliIo, id: string | undefined, options: { follow?: boolean; intervalMs?: string; untilSynced?: boolean; json?: boolean }): Promise<number> {
  const api = new CliApi(io);
  const interval = options.intervalMs === undefined ? 1000 : Number(options.intervalMs);
  if (!Number.isInteger(interval) || interval < 50) throw new CliError(`--interval-ms must be an integer ≥ 50, got ${options.intervalMs}`, EXIT.USAGE);
  for (;;) {
    const observers = id
      ? [(await api.request<Observer>('GET', `/api/v1/observers/${encodeURIComponent(id)}`)).body]
      : (await api.request<{ observers: Observer[] }>('GET', '/api/v1/observers')).body.observers;
    if (options.json) printJson(io, observers);
    else if (!observers.length) io.out('no observers (activate a workflow with a payments.trigger.evm or payments.trigger.casper node)');
    else for (const o of observers) io.out(statusLine(o));
    const synced = observers.length > 0 && observers.every((o) => o.status?.behind === 0);
    if (!options.follow || (options.untilSynced && synced)) return EXIT.OK;
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * `observer replay <id>`: reads the whole log over the REST API page by page (a progress bar on stderr),
 * folds it with the plugin's pure reducer and prints the state's sha256 and counts. The same log gives
 * the same hash on every replay, on any machine.
 */
export async function observerReplay(io: CliIo, id: string, options: { state?: boolean }): Promise<number> {
  const api = new CliApi(io);
  const { body: observer } = await api.request<Observer>('GET', `/api/v1/observers/${encodeURIComponent(id)}`);
  const total = observer.status?.events ?? 0;
  const entries: LogEntry[] = [];
  let cursor = 0;
  for (;;) {
    const { body } = await api.request<{ entries: LogEntry[]; nextCursor: number }>('GET', `/api/v1/observers/${encodeURIComponent(id)}/events?cursor=${cursor}&limit=10000`);
    if (!body.entries.length) break;
    for (const e of body.entries) entries.push(e);
    cursor = body.nextCursor;
    io.err(`reading the log ${progressBar(entries.length, Math.max(total, entries.length))} ${entries.length} entries`);
  }
  const started = Date.now();
  const state = replay(entries, (done) => io.err(`replaying ${progressBar(done, entries.length)}`));
  const hash = stateHash(state);
  io.err(`replayed ${entries.length} log entries in ${Date.now() - started} ms`);
  printJson(io, { observer: id, hash, entries: entries.length, events: state.events, retracted: state.retracted, alerts: state.alerts, flows: Object.keys(state.flows).length, ...(options.state ? { state } : {}) });
  return EXIT.OK;
}
