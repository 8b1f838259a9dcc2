import { describe, expect, it } from '@jest/globals';
import { NodeCatalog, type WorkflowDefinition } from '@anchorflow/engine';
import corePlugin from '@anchorflow/plugin-core';
import notificationsPlugin from '@anchorflow/plugin-notifications';
import { CredentialRefsCheck } from './credential-refs.check.js';

function catalog(): NodeCatalog {
  const c = new NodeCatalog();
  for (const p of [corePlugin, notificationsPlugin]) for (const n of p.nodes) c.register(n, p.name);
  return c;
}

const vault = new Map([
  ['ops-slack', { type: 'slack-webhook', name: 'ops-slack' }],
  ['mail', { type: 'smtp', name: 'mail' }],
]);
const lookups: string[] = [];
const check = new CredentialRefsCheck(catalog(), { describe: async (ref) => (lookups.push(ref), vault.get(ref)) });

const wf = (nodes: WorkflowDefinition['nodes']): WorkflowDefinition => ({ name: 'w', nodes: [{ id: 'start', type: 'core.trigger.manual' }, ...nodes], edges: [] });

describe('CredentialRefsCheck', () => {
  it('names the node and param when an existing credential has the wrong type', async () => {
    expect(await check.problems(wf([{ id: 'mailer', type: 'notify.email', params: { credential: 'ops-slack', to: 'a@b.co', subject: 's', text: 't' } }]))).toEqual([
      {
        code: 'INVALID_PARAMS',
        path: '$.nodes[1].params.credential',
        nodeId: 'mailer',
        message: 'node "mailer" param credential: credential "ops-slack" is of type slack-webhook, but notify.email needs a smtp credential',
      },
    ]);
  });

  it('accepts the right type, a name not created yet, an expression, and nodes without credential params; looks each name up once', async () => {
    lookups.length = 0;
    const problems = await check.problems(wf([
      { id: 'a', type: 'notify.email', params: { credential: 'mail', to: 'a@b.co', subject: 's', text: 't' } },
      { id: 'b', type: 'notify.email', params: { credential: 'mail', to: 'a@b.co', subject: 's', text: 't' } },
      { id: 'c', type: 'notify.slack', params: { credential: 'created-later', text: 't' } },
      { id: 'd', type: 'notify.webhook', params: { url: 'http://x.test/', credential: '=$.signer' } },
      { id: 'e', type: 'core.set', params: { values: { credential: 'ops-slack' } } },
    ]));
    expect(problems).toEqual([]);
    expect(lookups.sort()).toEqual(['created-later', 'mail']);
  });
});
