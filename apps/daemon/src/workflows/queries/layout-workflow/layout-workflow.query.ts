import { Query } from '@nestjs/cqrs';

export interface LaidOutGraph {
  nodes: Array<Record<string, unknown> & { id: string; position: { x: number; y: number } }>;
  edges: unknown[];
  [key: string]: unknown;
}

/** Positions for the nodes of a graph (left to right); everything else comes back unchanged. */
export class LayoutWorkflowQuery extends Query<LaidOutGraph> {
  constructor(readonly body: unknown) {
    super();
  }
}
