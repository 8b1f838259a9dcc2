import { receiptBodyOf, verifyHistory, type ReceiptBody } from '@anchorflow/engine';
import { onlineCheckerFor, ProofFormatError, verifyProof, type Check } from '@anchorflow/plugin-chain-anchor';
import { CliError, EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';
import { configuredNetworks, readJson } from './proof-verify.command.js';

export interface ReceiptVerifyOptions {
  /** the exported history: GET /api/v1/executions/:id/events?format=receipt */
  history?: string;
  offline?: boolean;
  rpc?: string;
  confirmations?: string;
  json?: boolean;
}

const STATEMENT_FIELDS = ['v', 'executionId', 'workflowId', 'version', 'status', 'eventCount', 'historyHead'] as const;

function receiptProblems(r: unknown): string[] {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return ['$ must be a JSON object'];
  const o = r as Record<string, unknown>;
  const problems: string[] = [];
  if (o.v !== 1) problems.push(`$.v must be 1 (got ${JSON.stringify(o.v)})`);
  for (const k of ['executionId', 'workflowId', 'status'] as const) if (typeof o[k] !== 'string') problems.push(`$.${k} must be a string`);
  for (const k of ['version', 'eventCount'] as const) if (!Number.isInteger(o[k])) problems.push(`$.${k} must be an integer`);
  if (typeof o.historyHead !== 'string' || !/^0x[0-9a-f]{64}$/.test(o.historyHead)) problems.push('$.historyHead must be 0x and 64 lowercase hex digits');
  if (typeof o.proof !== 'object' || o.proof === null) problems.push('$.proof must be a proof object (ARCHITECTURE §9)');
  for (const k of Object.keys(o)) if (k !== 'proof' && !(STATEMENT_FIELDS as readonly string[]).includes(k)) problems.push(`$.${k} is not a receipt field`);
  return problems;
}

/** the events of an export ({items} from ?format=receipt, {events}, or a bare array) */
function eventsOf(history: unknown): unknown[] | undefined {
  if (Array.isArray(history)) return history;
  const h = history as { items?: unknown; events?: unknown } | null;
  if (Array.isArray(h?.items)) return h.items;
  if (Array.isArray(h?.events)) return h.events;
  return undefined;
}

/**
 * Verifies an execution receipt against its exported history (ARCHITECTURE §9 "Execution receipts"):
 * the history's hash chain link by link (the first broken link is named), the receipt's statement against
 * the history (ids, status, count, head), the proof's leaf as the §9 leaf of that statement, the Merkle
 * path to the root and, unless --offline, the root's anchor on chain. Exit 0 valid, 1 invalid, 2 unreadable.
 */
export async function receiptVerify(io: CliIo, file: string, options: ReceiptVerifyOptions = {}): Promise<number> {
  if (!options.history) throw new CliError('--history <events.json> is required: export it with GET /api/v1/executions/<id>/events?format=receipt', EXIT.USAGE);
  const receipt = readJson(io, file, 'receipt file');
  const problems = receiptProblems(receipt);
  if (problems.length) {
    io.err(`anchorflow: ${file} is not a receipt file:`);
    for (const p of problems) io.err(`  ${p}`);
    return EXIT.USAGE;
  }
  const r = receipt as ReceiptBody & { proof: unknown };
  const history = readJson(io, options.history, 'history file');
  const events = eventsOf(history);
  if (!events) throw new CliError(`history file ${options.history} holds no events (expected the export of GET /api/v1/executions/<id>/events?format=receipt)`, EXIT.USAGE);
  const exportedFor = (history as { executionId?: unknown }).executionId;

  const checks: Check[] = [];
  if (typeof exportedFor === 'string' && exportedFor !== r.executionId) checks.push({ name: 'execution', ok: false, detail: `the history is execution ${exportedFor}'s, the receipt is for ${r.executionId}` });
  const chain = verifyHistory(r.executionId, events);
  if (!chain.ok) {
    const b = chain.brokenAt!;
    checks.push({ name: 'history', ok: false, detail: `broken at event #${b.index + 1} (seq ${b.seq ?? '?'}${b.type ? `, ${b.type}` : ''}): it ${b.reason}; ${chain.count} event(s) before it verify` });
  } else {
    checks.push({ name: 'history', ok: true, detail: `${chain.count} events chain to ${chain.head}` });
    const body = receiptBodyOf(r.executionId, events as Array<Record<string, unknown>>);
    if (typeof body === 'string') checks.push({ name: 'statement', ok: false, detail: body });
    else {
      const differs = STATEMENT_FIELDS.filter((k) => body[k] !== r[k]);
      if (differs.includes('historyHead')) checks.push({ name: 'head', ok: false, detail: `the history ends in ${body.historyHead}, the receipt states ${r.historyHead}: the history was rewritten from some event on, or events were added or cut` });
      else checks.push({ name: 'head', ok: true, detail: 'the history ends in the receipt\'s historyHead' });
      const others = differs.filter((k) => k !== 'historyHead');
      checks.push(others.length
        ? { name: 'statement', ok: false, detail: others.map((k) => `${k}: history ${JSON.stringify(body[k])}, receipt ${JSON.stringify(r[k])}`).join('; ') }
        : { name: 'statement', ok: true, detail: `${r.status}, ${r.eventCount} events, workflow ${r.workflowId} v${r.version}` });
    }
  }
  const confirmations = options.confirmations === undefined ? undefined : Number(options.confirmations);
  if (confirmations !== undefined && (!Number.isInteger(confirmations) || confirmations < 1)) throw new CliError(`--confirmations must be a positive integer, got "${options.confirmations}"`, EXIT.USAGE);
  const statement = Object.fromEntries(STATEMENT_FIELDS.map((k) => [k, r[k]]));
  try {
    const verdict = await verifyProof(r.proof, {
      data: statement,
      hasData: true,
      ...(options.offline ? {} : { online: onlineCheckerFor(options.rpc ? {} : configuredNetworks(io), { rpcUrl: options.rpc, confirmations }) }),
    });
    for (const c of verdict.checks) checks.push(c.name === 'leaf' ? { ...c, detail: c.ok ? 'the receipt\'s statement hashes to the proof\'s leaf' : `the receipt's statement does not hash to the proof's leaf (${c.detail})` } : c);
  } catch (err) {
    if (err instanceof ProofFormatError) {
      io.err(`anchorflow: the proof in ${file} is malformed:`);
      for (const p of err.problems) io.err(`  ${p.path} ${p.message}`);
      return EXIT.USAGE;
    }
    throw err;
  }
  const valid = checks.every((c) => c.ok);
  const firstBroken = checks.find((c) => !c.ok);
  if (options.json) printJson(io, { valid, checks, ...(firstBroken ? { firstBroken } : {}) });
  else {
    for (const c of checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    io.out(valid ? `receipt VALID${options.offline ? ' (offline: no chain check)' : ''}` : `receipt INVALID: ${firstBroken!.name}: ${firstBroken!.detail}`);
  }
  return valid ? EXIT.OK : EXIT.FAILURE;
}
