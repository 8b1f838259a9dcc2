import { createHash } from 'node:crypto';
import type { EventEntry, LogEntry } from './model.js';

export type FlowStatus = 'started' | 'accepted' | 'rejected' | 'settled' | 'failed';

export interface FlowState {
  flowId: string;
  status: FlowStatus;
  payer: string | null;
  payee: string | null;
  token: string | null;
  amount: string | null;
  resource: string | null;
  /** block timestamps (seconds) of each step; never the wall clock */
  startedAt: number | null;
  decidedAt: number | null;
  settledAt: number | null;
  failedAt: number | null;
  reason: string | null;
  settlementRef: string | null;
  /** events that arrived in an order the flow does not allow (kept, not applied) */
  anomalies: string[];
}

export interface AddressTotals {
  sent: string;
  received: string;
  count: number;
}

export interface ObserverState {
  /** active (not retracted) events folded */
  events: number;
  /** events removed by reorgs */
  retracted: number;
  /** deep-reorg alerts */
  alerts: number;
  /** highest log position folded, -1 when empty */
  lastPos: number;
  /** block timestamp (seconds) of the newest folded event */
  lastTimestamp: number | null;
  flows: Record<string, FlowState>;
  /** token → address → totals of Transfer events and of settled flows */
  totals: Record<string, Record<string, AddressTotals>>;
}

export const emptyState = (): ObserverState => ({ events: 0, retracted: 0, alerts: 0, lastPos: -1, lastTimestamp: null, flows: {}, totals: {} });

function add(state: ObserverState, token: string, address: string, field: 'sent' | 'received', amount: string): void {
  const byToken = (state.totals[token] ??= {});
  const t = (byToken[address] ??= { sent: '0', received: '0', count: 0 });
  t[field] = (BigInt(t[field]) + BigInt(amount)).toString();
  t.count += 1;
}

const str = (v: string | boolean | undefined): string | null => (typeof v === 'string' ? v : v === undefined ? null : String(v));

/** Folds one active event into the state (mutates and returns it; call on a copy to keep the old one). */
export function applyEvent(state: ObserverState, e: EventEntry): ObserverState {
  state.events += 1;
  state.lastPos = e.pos;
  state.lastTimestamp = e.timestamp;
  const a = e.args;
  switch (e.event) {
    case 'Transfer': {
      // Casper transfers name it `amount` (casper-types TransferV2); only they are read that way, so the
      // hash of every log without them is what it was
      const value = str(a.value) ?? (e.address === 'CSPR' ? str(a.amount) : null);
      if (value !== null) {
        if (typeof a.from === 'string') add(state, e.address, a.from, 'sent', value);
        if (typeof a.to === 'string') add(state, e.address, a.to, 'received', value);
      }
      break;
    }
    case 'FlowStarted': {
      const id = String(a.flowId);
      if (state.flows[id]) {
        state.flows[id].anomalies.push(`FlowStarted again at block ${e.block}`);
        break;
      }
      state.flows[id] = {
        flowId: id,
        status: 'started',
        payer: str(a.payer),
        payee: str(a.payee),
        token: str(a.token),
        amount: str(a.amount),
        resource: str(a.resource),
        startedAt: e.timestamp,
        decidedAt: null,
        settledAt: null,
        failedAt: null,
        reason: null,
        settlementRef: null,
        anomalies: [],
      };
      break;
    }
    case 'FlowDecision':
    case 'FlowSettled':
    case 'FlowFailed': {
      const id = String(a.flowId);
      const f = state.flows[id];
      if (!f) {
        // seen before its start (start before startBlock): keep a placeholder so the flow is visible
        state.flows[id] = { flowId: id, status: 'started', payer: null, payee: null, token: null, amount: null, resource: null, startedAt: null, decidedAt: null, settledAt: null, failedAt: null, reason: null, settlementRef: null, anomalies: [`${e.event} before FlowStarted at block ${e.block}`] };
        return applyFlowStep(state, state.flows[id], e);
      }
      return applyFlowStep(state, f, e);
    }
    default:
      break;
  }
  return state;
}

function applyFlowStep(state: ObserverState, f: FlowState, e: EventEntry): ObserverState {
  const a = e.args;
  if (e.event === 'FlowDecision') {
    if (f.status !== 'started') f.anomalies.push(`FlowDecision while ${f.status} at block ${e.block}`);
    else {
      f.status = a.accepted === true || a.accepted === 'true' ? 'accepted' : 'rejected';
      f.decidedAt = e.timestamp;
      f.reason = str(a.reason) || null;
    }
  } else if (e.event === 'FlowSettled') {
    if (f.status !== 'accepted') f.anomalies.push(`FlowSettled while ${f.status} at block ${e.block}`);
    else {
      f.status = 'settled';
      f.settledAt = e.timestamp;
      f.settlementRef = str(a.settlementRef);
      if (f.token && f.amount) {
        if (f.payer) add(state, f.token, f.payer, 'sent', f.amount);
        if (f.payee) add(state, f.token, f.payee, 'received', f.amount);
      }
    }
  } else if (e.event === 'FlowFailed') {
    if (f.status !== 'started' && f.status !== 'accepted') f.anomalies.push(`FlowFailed while ${f.status} at block ${e.block}`);
    else {
      f.status = 'failed';
      f.failedAt = e.timestamp;
      f.reason = str(a.reason);
    }
  }
  return state;
}

/**
 * Rebuilds the state from the log: the events that no retraction removed, folded in log order. Pure:
 * the same log always gives the same state (block timestamps only, no clock, no I/O).
 */
export function replay(entries: Iterable<LogEntry>, onProgress?: (done: number) => void): ObserverState {
  const list = Array.isArray(entries) ? (entries as LogEntry[]) : [...entries];
  const retracted = new Set<number>();
  let alerts = 0;
  for (const e of list) {
    if (e.kind === 'retract') retracted.add(e.retracts);
    else if (e.kind === 'alert') alerts++;
  }
  const state = emptyState();
  state.retracted = retracted.size;
  state.alerts = alerts;
  let i = 0;
  for (const e of list) {
    if (e.kind === 'event' && !retracted.has(e.pos)) applyEvent(state, e);
    if (onProgress && ++i % 50_000 === 0) onProgress(i);
  }
  if (list.length) state.lastPos = Math.max(state.lastPos, list[list.length - 1]!.pos);
  return state;
}

/** JSON with object keys sorted at every level: equal states give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** sha256 of the canonical JSON of the state, hex */
export const stateHash = (state: ObserverState): string => createHash('sha256').update(canonicalJson(state)).digest('hex');
