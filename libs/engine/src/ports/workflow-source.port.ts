import type { WorkflowDefinition } from '../workflow/workflow.types.js';

/** Reads stored workflow versions (executions keep the version they started with). */
export interface WorkflowSource {
  getVersion(workflowId: string, version: number): Promise<WorkflowDefinition | undefined>;
  /** the workflow's latest version number (sub-workflows and error workflows run it); undefined when unknown */
  latestVersion?(workflowId: string): Promise<number | undefined>;
}
