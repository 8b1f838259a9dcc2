import { NodeError, invokeNode, type OutboundFetch } from '@anchorflow/plugin-sdk';
import type { NodeCatalog } from '../catalog.js';
import type { NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '../ports/node-transport.port.js';
import { jsonBytes, jsonBytesBound } from './json-size.js';

/**
 * Largest serialized output (all ports, JSON) one node attempt may emit in process: outputs are stored
 * with the execution, so a node emitting hundreds of megabytes fails with OUTPUT_TOO_LARGE instead
 * (issue 17). Remote outputs are bounded by the NATS max_payload already.
 */
export const DEFAULT_MAX_NODE_OUTPUT_BYTES = 32 * 1024 * 1024;

export interface InProcessTransportOptions {
  /** the guarded ctx.fetch built from the admin's outbound policy (default: nothing allow-listed) */
  fetch?: OutboundFetch;
  /** default DEFAULT_MAX_NODE_OUTPUT_BYTES */
  maxOutputBytes?: number;
}

/** Runs node jobs in this process: a direct call into the plugin's execute(). */
export class InProcessTransport implements NodeTransport {
  private readonly maxOutputBytes: number;

  constructor(
    private readonly catalog: NodeCatalog,
    private readonly options: InProcessTransportOptions = {},
  ) {
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_NODE_OUTPUT_BYTES;
  }

  async run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
    const def = this.catalog.get(job.nodeType);
    if (!def) throw new NodeError(`no plugin provides node type ${job.nodeType}`, 'UNKNOWN_NODE_TYPE');
    const plugin = this.catalog.pluginOf(job.nodeType)!;
    const outcome = await invokeNode(def, job, {
      signal: env.signal,
      logger: env.logger,
      credentials: env.credentials,
      state: env.state(plugin),
      metrics: env.metrics?.(plugin),
      evaluate: env.evaluate,
      progress: env.progress,
      now: env.now,
      fetch: this.options.fetch,
      executions: env.executions,
    });
    if (outcome.kind === 'output') {
      // most outputs are far below the limit: an upper bound says so without serializing them
      const bound = jsonBytesBound(outcome.outputs);
      if (bound <= this.maxOutputBytes) return { kind: 'output', outputs: outcome.outputs, outputBytesBound: bound };
      let bytes: number;
      try {
        bytes = jsonBytes(outcome.outputs);
      } catch {
        // not JSON (a cycle, a BigInt): the engine reports that when it stores the output
        return outcome;
      }
      if (bytes > this.maxOutputBytes) {
        throw new NodeError(`${job.nodeType} emitted ${bytes} bytes of output; a node may emit at most ${this.maxOutputBytes} (outputs are stored with the execution)`, 'OUTPUT_TOO_LARGE', { bytes, limit: this.maxOutputBytes });
      }
      // measured once: the engine's per-execution quota counts the same bytes
      return { kind: 'output', outputs: outcome.outputs, outputBytes: bytes };
    }
    return outcome;
  }
}
