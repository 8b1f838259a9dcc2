import { EventFragment, Interface } from 'ethers';

/** The event presets; anything else must be a Solidity ABI event fragment. */
export const PRESETS: Record<string, string[]> = {
  'erc20.Transfer': ['event Transfer(address indexed from, address indexed to, uint256 value)'],
  'x402.Flow': [
    'event FlowStarted(bytes32 indexed flowId, address indexed payer, address indexed payee, address token, uint256 amount, string resource)',
    'event FlowDecision(bytes32 indexed flowId, bool accepted, string reason)',
    'event FlowSettled(bytes32 indexed flowId, bytes32 settlementRef)',
    'event FlowFailed(bytes32 indexed flowId, string reason)',
  ],
};

/**
 * Parses an event spec (a preset name, a human-readable fragment `event Foo(uint256 a)` or a JSON ABI
 * fragment object/string). Throws an Error whose message says what is wrong.
 */
export function parseEventSpec(spec: unknown): Interface {
  if (typeof spec === 'string' && PRESETS[spec]) return new Interface(PRESETS[spec]);
  let fragment: unknown = spec;
  if (typeof spec === 'string' && spec.trim().startsWith('{')) {
    try {
      fragment = JSON.parse(spec);
    } catch (err) {
      throw new Error(`is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  if (typeof fragment === 'string' && !/^\s*event\s/.test(fragment)) {
    throw new Error(`must be "erc20.Transfer", "x402.Flow" or an ABI event fragment such as "event Paid(address indexed payer, uint256 amount)"`);
  }
  if (fragment && typeof fragment === 'object' && (fragment as { type?: unknown }).type !== 'event') {
    throw new Error('must be an ABI fragment with "type": "event"');
  }
  let parsed: EventFragment;
  try {
    parsed = EventFragment.from(fragment as string);
  } catch (err) {
    const e = err as { shortMessage?: string; message: string };
    throw new Error(`is not a valid ABI event fragment: ${e.shortMessage ?? e.message.split(' (')[0]}`, { cause: err });
  }
  if (parsed.anonymous) throw new Error('anonymous events cannot be followed (they have no topic to filter on)');
  return new Interface([parsed]);
}

/** The canonical text of a spec, stored in the registration. */
export function normaliseEventSpec(spec: string): string {
  if (PRESETS[spec]) return spec;
  const iface = parseEventSpec(spec);
  let text = '';
  iface.forEachEvent((e) => (text = e.format('full')));
  return text;
}

/** ABI values → JSON: integers as decimal strings, everything else as text. */
export function jsonValue(v: unknown): string | boolean {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return JSON.stringify(v.map(jsonValue));
  return String(v);
}
