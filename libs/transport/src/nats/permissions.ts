import { type NatsNames, natsNames } from './subjects.js';

/** NATS subject permissions of one role (nats-server `authorization.users[].permissions`). */
export interface NatsRolePermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
}

/**
 * The NATS permissions of each role for one prefix (docs/security.md, "Cluster mode"). A worker may pull
 * jobs, acknowledge them, store and publish results, make the daemon RPCs, announce itself and hear
 * cancels — nothing else: it cannot subscribe to the jobs subjects (a job, with its secret, reaches it
 * only through its own pull), nor to results, RPC or progress subjects, nor read other streams.
 * A daemon owns the prefix and the JetStream API.
 */
export function natsPermissions(prefix?: string): { daemon: NatsRolePermissions; worker: NatsRolePermissions } {
  const n: NatsNames = natsNames(prefix);
  const base = `${n.prefix}.v1`;
  const stream = n.jobsStream;
  const kvStream = `KV_${n.resultsBucket}`;
  return {
    daemon: {
      publish: { allow: [`${base}.>`, '$JS.API.>', `$KV.${n.resultsBucket}.>`, '_INBOX.>'] },
      subscribe: { allow: [`${base}.>`, '_INBOX.>'] },
    },
    worker: {
      publish: {
        allow: [
          // the jobs stream and its consumers: check/create them, pull the next job, ack it
          '$JS.API.INFO',
          `$JS.API.STREAM.INFO.${stream}`,
          `$JS.API.STREAM.CREATE.${stream}`,
          `$JS.API.STREAM.UPDATE.${stream}`,
          `$JS.API.CONSUMER.INFO.${stream}.*`,
          `$JS.API.CONSUMER.CREATE.${stream}.>`,
          `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.*`,
          `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
          `$JS.ACK.${stream}.>`,
          // the results bucket: store a result, read it back on a redelivery
          `$JS.API.STREAM.INFO.${kvStream}`,
          `$JS.API.STREAM.CREATE.${kvStream}`,
          `$JS.API.STREAM.MSG.GET.${kvStream}`,
          `$JS.API.DIRECT.GET.${kvStream}.>`,
          `$KV.${n.resultsBucket}.>`,
          // to the daemons
          `${base}.results.*`,
          `${base}.progress.*`,
          `${base}.rpc.*.*`,
          n.announce,
        ],
      },
      subscribe: { allow: ['_INBOX.>', `${base}.cancel.>`, n.query], deny: [`${base}.jobs.>`, `${base}.rpc.>`, `${base}.results.>`, `${base}.progress.>`] },
    },
  };
}

/** A nats-server `authorization` block for the given users (tests, and the example in docs/security.md). */
export function natsAuthorizationConfig(users: Array<{ user: string; password: string; permissions: NatsRolePermissions }>): string {
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const perms = (p: NatsRolePermissions) =>
    `publish: { allow: ${list(p.publish.allow)}${p.publish.deny ? `, deny: ${list(p.publish.deny)}` : ''} }, subscribe: { allow: ${list(p.subscribe.allow)}${p.subscribe.deny ? `, deny: ${list(p.subscribe.deny)}` : ''} }`;
  return `authorization {\n  users: [\n${users.map((u) => `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}, permissions: { ${perms(u.permissions)} } }`).join(',\n')}\n  ]\n}\n`;
}
