import { describe, expect, it } from '@jest/globals';
import { canonicalJson } from '@anchorflow/plugin-sdk';
import { ExecutionFinishedEvent, ExecutionStartedEvent, NodeSucceededEvent } from './execution-events.js';
import { chainLink, eventBody, historyGenesis, receiptBodyOf, receiptLeaf, verifyHistory } from './history-chain.js';
import { createHash } from 'node:crypto';

const ID = '0190c3a4-1111-7000-8000-000000000001';
const sha = (s: string) => '0x' + createHash('sha256').update(s, 'utf8').digest('hex');
const strict = (e: object) => {
  const { executionId: _x, hash: _h, ...body } = e as Record<string, unknown>;
  return canonicalJson(body);
};

/** the events as the store keeps them: canonical JSON with the hash spliced in, read back */
function stored(events: object[]): Array<Record<string, unknown>> {
  let prev = historyGenesis(ID);
  return events.map((e) => {
    const body = eventBody(e);
    prev = chainLink(prev, body);
    return { ...JSON.parse(body), hash: prev, executionId: ID };
  });
}

describe('history hash chain (receipts)', () => {
  const history = [
    new ExecutionStartedEvent(ID, 1, 1_000, 'wf-1', 2, { b: 1, a: [1, 'x', null], 'é': { z: true, y: -0 } }, 'start'),
    new NodeSucceededEvent(ID, 2, 1_010, 'price', 1, { main: { total: 12.5, big: 1e21, tiny: 1e-7 } }, 1_005),
    new ExecutionFinishedEvent(ID, 3, 1_020, 'succeeded', { price: { total: 12.5 } }),
  ];

  it('is exactly the documented preimage: h0 = SHA-256("anchorflow/history/v1:" + id), hN = SHA-256(h(N-1) + canonical JSON of the event without executionId)', () => {
    expect(historyGenesis(ID)).toBe(sha(`anchorflow/history/v1:${ID}`));
    const h1 = sha(historyGenesis(ID) + '{"at":1000,"input":{"a":[1,"x",null],"b":1,"é":{"y":0,"z":true}},"seq":1,"triggerNodeId":"start","type":"execution.started","workflowId":"wf-1","workflowVersion":2}');
    expect(stored(history)[0]!.hash).toBe(h1);
  });

  it('verifies a stored history and names the first event that was changed, removed or moved', () => {
    const events = stored(history);
    expect(verifyHistory(ID, events)).toEqual({ ok: true, count: 3, head: events[2]!.hash });
    const changed = events.map((e, i) => (i === 1 ? { ...e, output: { main: { total: 99 } } } : e));
    expect(verifyHistory(ID, changed)).toMatchObject({ ok: false, count: 1, brokenAt: { index: 1, seq: 2, type: 'node.succeeded' } });
    expect(verifyHistory(ID, [events[0], events[2]])).toMatchObject({ ok: false, brokenAt: { index: 1, seq: 3 } });
    expect(verifyHistory('0190c3a4-1111-7000-8000-000000000002', events)).toMatchObject({ ok: false, brokenAt: { index: 0 } });
    expect(verifyHistory(ID, events.map(({ hash: _h, ...e }) => e))).toMatchObject({ ok: false, brokenAt: { index: 0, reason: expect.stringContaining('no hash') } });
  });

  it('the receipt statement comes from the ends of the history; its leaf is the §9 leaf of its canonical JSON', () => {
    const events = stored(history);
    const body = receiptBodyOf(ID, events);
    expect(body).toEqual({ v: 1, executionId: ID, workflowId: 'wf-1', version: 2, status: 'succeeded', eventCount: 3, historyHead: events[2]!.hash });
    expect(receiptBodyOf(ID, [events[0]!, events[2]!])).toEqual(body);
    expect(receiptBodyOf(ID, events.slice(0, 2))).toMatch(/not ended/);
    const leaf = createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(canonicalJson(body), 'utf8')])).digest('hex');
    expect(receiptLeaf(body as never)).toBe(`0x${leaf}`);
  });

  it('an event\'s body is the canonical JSON of its members but executionId and hash; what is not JSON is refused', () => {
    const e = new NodeSucceededEvent(ID, 3, 1_000, 'n', 1, { main: { b: 1, a: [2, { d: 'x', c: null }] } }, 900);
    expect(eventBody({ ...e, hash: '0xabc' })).toBe(strict(e));
    expect(eventBody(e)).not.toContain('executionId');
    expect(eventBody(e)).toContain('"main":{"a":[2,{"c":null,"d":"x"}],"b":1}');
    expect(eventBody({ seq: 1, at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z","seq":1}');
    for (const bad of [new Map(), 'a\uD800', Number.NaN, 10n]) expect(() => eventBody({ seq: 1, v: bad })).toThrow(/cannot canonicalize/);
  });
});
