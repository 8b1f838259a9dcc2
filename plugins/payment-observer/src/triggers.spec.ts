import { describe, expect, it } from '@jest/globals';
import { CasperTriggerParams } from './params.js';
import { type Cursor, cursorKey, type LogEntry, logStream } from './model.js';
import { PAGE } from './log-store.js';
import { MemoryPluginState, startTrigger } from './spec-support/harness.js';
import { until } from './spec-support/anvil.js';
import { casperTrigger, observerId } from './triggers.js';

const PURSE = `uref-${'ab'.repeat(32)}`;

const event = (pos: number, block: number): LogEntry => ({
  kind: 'event', pos, id: `tx${pos}:0`, chainId: 'casper-test', block, blockHash: `h${block}`, txIndex: 0, logIndex: 0, txHash: `tx${pos}`,
  address: PURSE, event: 'Transfer', args: { to: PURSE, amount: '1' }, timestamp: 1_700_000_000,
});

describe('payment trigger delivery', () => {
  it('never fires an event whose retraction (a reorg) was logged more than a page after it', async () => {
    const state = new MemoryPluginState();
    const id = observerId('wf1', 'pay');
    // the retracted event first, then more than a page of other confirmed events, then its retraction
    const entries: LogEntry[] = [event(0, 1)];
    for (let pos = 1; pos <= PAGE + 1; pos++) entries.push(event(pos, 2));
    const retractAt = entries.length;
    entries.push({ kind: 'retract', pos: retractAt, retracts: 0, id: 'tx0:0', block: 1, ancestor: 0 });
    const cursor: Cursor = { nextPos: entries.length, block: 100, hash: 'h100', recent: [] };
    await state.log<LogEntry>(logStream(id)).append(entries, { expectedLength: 0, checkpoint: { [cursorKey(id)]: cursor } });

    const trigger = await startTrigger(casperTrigger, Object.assign(new CasperTriggerParams(), { network: 'local', to: PURSE, confirmations: 1 }), state);
    try {
      await until('every unretracted event to fire', () => trigger.fired.length >= PAGE + 1, 30_000);
      expect(trigger.fired.map((f) => f.dedupeKey)).not.toContain('casper-test:tx0:0');
      expect(trigger.fired).toHaveLength(PAGE + 1);
    } finally {
      await trigger.stop();
    }
  });
});
