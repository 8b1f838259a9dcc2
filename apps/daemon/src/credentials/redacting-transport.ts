import type { NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '@anchorflow/engine';
import type { SecretRegistry } from '../core/secret-registry.js';

/**
 * Wraps whichever transport runs node jobs (in-process, NATS, routing) so that credential values never
 * leave a node: its outputs and the error it throws are redacted (registered secrets → `[REDACTED]`)
 * before the engine sees them. Everything downstream (the execution history, the API, the next nodes'
 * inputs, sockets) therefore only ever holds the redacted copy, also after a crash and resume.
 * Errors keep their class (NodeError stays non-retryable, TransientNodeError retryable).
 */
export function redactingTransport(inner: NodeTransport, secrets: SecretRegistry): NodeTransport {
  return {
    async run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
      let outcome: NodeJobOutcome;
      try {
        outcome = await inner.run(job, env);
      } catch (err) {
        throw secrets.hasNodeSecrets ? secrets.nodeData.redact(err) : err;
      }
      if (outcome.kind !== 'output' || !secrets.hasNodeSecrets) return outcome;
      return { kind: 'output', outputs: secrets.nodeData.redact(outcome.outputs) };
    },
  };
}
