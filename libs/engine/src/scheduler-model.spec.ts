/**
 * The scheduler against a reference model (issue 16): random graphs (diamonds, branches, switches,
 * merges, retries, failures with and without continueOnFail, concurrency limits 1/2/16), each run by the
 * real Engine on the in-memory store and compared with `runModel` (spec-support/reference-model.ts):
 * node statuses, attempts, outputs, the execution's status, output and error; after a failure nothing
 * starts and running siblings end finished or cancelled; the concurrency limit holds; the view folded
 * from the stored events equals the live view. The PostgreSQL half is in
 * libs/persistence/src/adapters/execution-store.contract.spec.ts. MODEL_SEED / MODEL_CASES replay or widen it.
 */
import { randomInt } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Engine } from './engine.js';
import { MemoryExecutionStore, MemoryWorkflowSource } from './testing/memory-execution-store.js';
import { InProcessTransport } from './spec-support/in-process-transport.js';
import { compareWithModel, generateCase, modelCatalog, runModel, type ModelProbe } from './spec-support/reference-model.js';

const SEED = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : randomInt(1, 2 ** 30);
const CASES = Number(process.env.MODEL_CASES ?? 150);

describe('scheduler vs the reference model', () => {
  it(`agrees on ${CASES} random graphs (seed ${SEED}, MODEL_SEED to replay)`, async () => {
    const failures: string[] = [];
    const covered = { failedExecutions: 0, continued: 0, skipped: 0, retried: 0, cancelledSiblings: 0, merges: 0 };
    for (let k = 0; k < CASES && failures.length < 5; k++) {
      const c = generateCase(SEED + k);
      const probe: ModelProbe = { calls: new Map(), running: 0, maxRunning: 0 };
      const catalog = modelCatalog(probe);
      const store = new MemoryExecutionStore();
      const workflows = new MemoryWorkflowSource();
      workflows.put('w', 1, c.def);
      const engine = new Engine({ store, transport: new InProcessTransport(catalog), catalog, workflows, options: { maxConcurrentNodesPerExecution: c.maxConcurrentNodesPerExecution } });
      try {
        const { executionId } = await engine.start({ workflowId: 'w', version: 1, input: c.input });
        const view = await engine.whenFinished(executionId, 10_000);
        if (!view) { failures.push(`seed ${c.seed}: did not finish: ${JSON.stringify(engine.view(executionId))}`); continue; }
        await store.durable();
        const events = await store.events(executionId);
        const model = runModel(c);
        const problems = compareWithModel(c, model, view, events);
        if (probe.maxRunning > c.maxConcurrentNodesPerExecution) problems.push(`${probe.maxRunning} nodes ran at once, limit ${c.maxConcurrentNodesPerExecution}`);
        const folded = JSON.parse(JSON.stringify(await engine.describe(executionId)));
        if (JSON.stringify(folded) !== JSON.stringify(JSON.parse(JSON.stringify(view)))) problems.push(`folded view differs from the live view:\n${JSON.stringify(folded)}\n${JSON.stringify(view)}`);
        if (problems.length) failures.push(`seed ${c.seed} (${JSON.stringify(c.def)} input ${JSON.stringify(c.input)} limit ${c.maxConcurrentNodesPerExecution}):\n  ${problems.join('\n  ')}`);
        if (model.status === 'failed') covered.failedExecutions++;
        if (Object.values(model.nodes).some((n) => n.status === 'failed' && n.output)) covered.continued++;
        if (Object.values(model.nodes).some((n) => n.status === 'skipped')) covered.skipped++;
        if (Object.values(model.nodes).some((n) => (n.attempt ?? 1) > 1)) covered.retried++;
        if (view.nodeRuns.some((r) => r.status === 'cancelled')) covered.cancelledSiblings++;
        if (c.def.nodes.some((n) => c.def.edges.filter((e) => e.to === n.id).length > 1)) covered.merges++;
      } finally {
        await engine.stop();
      }
    }
    expect(failures).toEqual([]);
    // the generator reached every rule it is meant to exercise
    if (CASES >= 100) for (const [what, n] of Object.entries(covered)) expect({ what, reached: n > 0 }).toEqual({ what, reached: true });
  }, 120_000);
});
