import { formatUnits, parseUnits } from 'ethers';
import type { EventEntry } from './model.js';
import type { PaymentFilter } from './params.js';

/** What an execution started by payments.trigger.evm receives. */
export interface PaymentPayload {
  observer: string;
  /** EVM: the chain id; Casper: the chain name */
  chainId: number | string;
  txHash: string;
  logIndex: number;
  block: number;
  blockHash: string;
  event: string;
  from: string | null;
  to: string | null;
  /** decimal string, token decimals applied when known */
  amount: string | null;
  /** the raw integer amount (decimal string) */
  rawAmount: string | null;
  decimals: number | null;
  token: string;
  args: Record<string, string | boolean>;
  /** the block's timestamp, seconds since epoch */
  timestamp: number;
}

const pick = (args: Record<string, string | boolean>, names: string[]): string | null => {
  for (const n of names) if (typeof args[n] === 'string') return args[n] as string;
  return null;
};

export function toPayload(observer: string, e: EventEntry): PaymentPayload {
  const raw = pick(e.args, ['value', 'amount', 'wad']);
  const token = pick(e.args, ['token']) ?? e.address;
  return {
    observer,
    chainId: e.chainId,
    txHash: e.txHash,
    logIndex: e.logIndex,
    block: e.block,
    blockHash: e.blockHash,
    event: e.event,
    from: pick(e.args, ['from', 'payer', 'sender', 'src']),
    to: pick(e.args, ['to', 'payee', 'recipient', 'dst']),
    amount: raw === null ? null : e.decimals !== undefined ? formatUnits(BigInt(raw), e.decimals) : raw,
    rawAmount: raw,
    decimals: e.decimals ?? null,
    token,
    args: e.args,
    timestamp: e.timestamp,
  };
}

const same = (a: string | null, b: string): boolean => a !== null && a.toLowerCase() === b.toLowerCase();

export function matchesFilter(p: PaymentPayload, f: PaymentFilter | undefined): boolean {
  if (!f) return true;
  if (f.from && !same(p.from, f.from)) return false;
  if (f.to && !same(p.to, f.to)) return false;
  if (f.token && !same(p.token, f.token)) return false;
  if (f.minAmount !== undefined) {
    if (p.rawAmount === null) return false;
    const d = p.decimals ?? 0;
    const [int, frac = ''] = f.minAmount.split('.');
    const digits = frac.replace(/0+$/, '');
    // more fractional digits than the token has: the threshold rounds up to the next unit
    const min = digits.length > d ? parseUnits(`${int}.${digits.slice(0, d) || '0'}`, d) + 1n : parseUnits(`${int}.${digits || '0'}`, d);
    if (BigInt(p.rawAmount) < min) return false;
  }
  return true;
}
