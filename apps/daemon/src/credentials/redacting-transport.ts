import type { NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '@anchorflow/engine';
import type { SecretRegistry } from '../core/secret-registry.js';
import type { Credentials } from './credentials.js';

/**
 * Wraps whichever transport runs node jobs (in-process, NATS, routing):
 *
 * - the job's credentials accessor is the vault's `forJob`: a credential outside its scopes (workflows,
 *   node types) is refused with CREDENTIAL_OUT_OF_SCOPE, and what the job resolves is registered for
 *   redaction in ITS execution only (issue 17). Workers reach the vault through this same accessor (the
 *   NATS transport serves their credential requests from `env.credentials`).
 * - its outputs and the error it throws are redacted (the values of credentials its execution resolved,
 *   and their base64/hex forms → `[REDACTED]`) before the engine sees them. Everything downstream (the
 *   execution history, the API, the next nodes' inputs, sockets) therefore only ever holds the redacted
 *   copy, also after a crash and resume.
 *
 * Errors keep their class (NodeError stays non-retryable, TransientNodeError retryable).
 */
export function redactingTransport(inner: NodeTransport, secrets: SecretRegistry, credentials?: Pick<Credentials, 'forJob'>): NodeTransport {
  return {
    async run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
      const scopedEnv = credentials
        ? { ...env, credentials: credentials.forJob({ executionId: job.executionId, workflowId: job.workflowId, nodeId: job.nodeId, nodeType: job.nodeType }) }
        : env;
      let outcome: NodeJobOutcome;
      try {
        outcome = await inner.run(job, scopedEnv);
      } catch (err) {
        const redactor = secrets.forExecution(job.executionId);
        throw redactor ? redactor.redact(err) : err;
      }
      const redactor = secrets.forExecution(job.executionId);
      if (outcome.kind !== 'output' || !redactor) return outcome;
      return { kind: 'output', outputs: redactor.redact(outcome.outputs) };
    },
  };
}
