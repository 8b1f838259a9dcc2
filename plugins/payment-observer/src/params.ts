import { IsInt, IsOptional, IsString, JSONSchema, Matches, Max, Min, Static, Type, ValidateBy, ValidateNested } from '@anchorflow/plugin-sdk';
import { normaliseCasperTarget } from './casper-target.js';
import { parseEventSpec } from './events.js';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const ADDRESS_MESSAGE = (field: string) => ({ message: `${field} must be a 0x-prefixed 20-byte hex address` });

function eventProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return 'must be "erc20.Transfer", "x402.Flow" or an ABI event fragment';
  try {
    parseEventSpec(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export class PaymentFilter {
  @JSONSchema({ description: 'only events whose sender is this address' })
  @IsOptional()
  @Matches(ADDRESS, ADDRESS_MESSAGE('from'))
  from?: string;

  @JSONSchema({ description: 'only events whose recipient is this address' })
  @IsOptional()
  @Matches(ADDRESS, ADDRESS_MESSAGE('to'))
  to?: string;

  @JSONSchema({ description: 'only events of this token contract' })
  @IsOptional()
  @Matches(ADDRESS, ADDRESS_MESSAGE('token'))
  token?: string;

  @JSONSchema({ description: 'only amounts at least this large, in token units with decimals applied (e.g. "1.5")' })
  @IsOptional()
  @Matches(/^\d+(\.\d+)?$/, { message: 'minAmount must be a non-negative decimal string such as "10" or "0.25"' })
  minAmount?: string;
}

export class EvmTriggerParams {
  @JSONSchema({ description: 'network name from pluginConfig.payment-observer.networks' })
  @Static()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'network must be a network name from pluginConfig.payment-observer.networks (letters, digits, _ and -)' })
  network!: string;

  @JSONSchema({ description: 'contract address to follow; absent = every contract emitting the event' })
  @IsOptional()
  @Static()
  @Matches(ADDRESS, ADDRESS_MESSAGE('contract'))
  contract?: string;

  @JSONSchema({ description: '"erc20.Transfer", "x402.Flow" (the four flow events) or a Solidity ABI event fragment (human-readable or JSON)' })
  @Static()
  @ValidateBy({ name: 'eventSpec', validator: { validate: (v: unknown) => eventProblem(v) === undefined, defaultMessage: (a) => `event ${eventProblem(a?.value)}` } })
  event: string = 'erc20.Transfer';

  @IsOptional()
  @ValidateNested()
  @Type(() => PaymentFilter)
  filter?: PaymentFilter;

  @JSONSchema({ description: 'blocks mined on top of an event before it starts an execution' })
  @Static()
  @IsInt()
  @Min(0)
  @Max(10_000)
  confirmations: number = 3;

  @JSONSchema({ description: 'first block to ingest (backfill starts here)' })
  @Static()
  @IsInt({ message: 'startBlock must be a block number (an integer)' })
  @Min(0)
  startBlock: number = 0;
}

export class ReorgTriggerParams {
  @JSONSchema({ description: 'only alerts of this observer (`<workflowId>.<nodeId>` of a payments.trigger.evm); absent = all' })
  @IsOptional()
  @IsString()
  observer?: string;
}

function casperTargetsProblem(value: unknown): string | undefined {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.length > 100) return 'must be an account hash, public key or purse URef, or a list of 1 to 100 of them';
  for (const [i, v] of list.entries()) {
    try {
      if (typeof v !== 'string') throw new Error('must be a string');
      normaliseCasperTarget(v);
    } catch (err) {
      return `${typeof value === 'string' ? '' : `[${i}] `}${(err as Error).message}`;
    }
  }
  return undefined;
}

function casperAccountProblem(value: unknown): string | undefined {
  try {
    if (typeof value !== 'string') throw new Error('must be a string');
    const n = normaliseCasperTarget(value);
    return n.startsWith('uref-') ? 'must be an account hash or a public key (a transfer comes from an account)' : undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export class CasperPaymentFilter {
  @JSONSchema({ description: 'only transfers from this account (account hash or public key)' })
  @IsOptional()
  @ValidateBy({ name: 'casperAccount', validator: { validate: (v: unknown) => casperAccountProblem(v) === undefined, defaultMessage: (a) => `from ${casperAccountProblem(a?.value)}` } })
  from?: string;

  @JSONSchema({ description: 'only amounts at least this large, in CSPR (9 decimals), e.g. "2.5"' })
  @IsOptional()
  @Matches(/^\d+(\.\d+)?$/, { message: 'minAmount must be a non-negative decimal string such as "10" or "0.25"' })
  minAmount?: string;
}

export class CasperTriggerParams {
  @JSONSchema({ description: 'network name from pluginConfig.payment-observer.casperNetworks' })
  @Static()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'network must be a network name from pluginConfig.payment-observer.casperNetworks (letters, digits, _ and -)' })
  network!: string;

  @JSONSchema({ description: 'the watched recipients: account hashes ("account-hash-…"), public keys (hex) or purse URefs ("uref-…-007"); one or a list' })
  @Static()
  @ValidateBy({ name: 'casperTargets', validator: { validate: (v: unknown) => casperTargetsProblem(v) === undefined, defaultMessage: (a) => `to ${casperTargetsProblem(a?.value)}` } })
  to!: string | string[];

  @IsOptional()
  @ValidateNested()
  @Type(() => CasperPaymentFilter)
  filter?: CasperPaymentFilter;

  @JSONSchema({ description: 'blocks added on top of the transfer\'s block before it starts an execution (Casper blocks are final when announced: 0 by default)' })
  @Static()
  @IsInt()
  @Min(0)
  @Max(10_000)
  confirmations: number = 0;

  @JSONSchema({ description: 'sidecar event id to start from (inclusive) on first start, to pick up transfers still in the sidecar\'s buffer; absent = new events only' })
  @IsOptional()
  @Static()
  @IsInt({ message: 'startEventId must be a sidecar event id (an integer)' })
  @Min(0)
  @Max(4_294_967_295)
  startEventId?: number;
}
