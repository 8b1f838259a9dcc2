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

describe('CredentialRefsCheck: scopes (issue 17)', () => {
  const WF = 'c0000000-0000-4000-8000-00000000000c';
  const scoped = new CredentialRefsCheck(catalog(), {
    describe: async (ref) => (ref === 'hook-secret' ? { type: 'hmac-secret', name: 'hook-secret', scopes: { workflows: [WF], nodeTypes: ['notify.webhook'] } } : undefined),
  });
  const node = { id: 'send', type: 'notify.webhook', params: { url: 'https://x.test/', credential: 'hook-secret' } };

  it('refuses a reference from a workflow outside the scope, naming the node and the credential', async () => {
    expect(await scoped.problems(wf([node]), 'd0000000-0000-4000-8000-00000000000d')).toEqual([{
      code: 'CREDENTIAL_OUT_OF_SCOPE',
      path: '$.nodes[1].params.credential',
      nodeId: 'send',
      message: 'node "send" param credential: credential "hook-secret" may not be used here: workflow d0000000-0000-4000-8000-00000000000d is not in its scope',
    }]);
    // a workflow not created yet is in no workflow scope
    expect((await scoped.problems(wf([node])))[0]).toMatchObject({ code: 'CREDENTIAL_OUT_OF_SCOPE', message: expect.stringContaining('a new workflow is in none of them yet') });
  });

  it('accepts the scoped workflow', async () => {
    expect(await scoped.problems(wf([node]), WF)).toEqual([]);
  });
});
