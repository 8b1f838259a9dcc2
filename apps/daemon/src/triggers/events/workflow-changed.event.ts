/** A workflow was created, got a new version, was (de)activated or deleted (for watchers: socket gateway). */
export class WorkflowChangedEvent {
  constructor(
    readonly workflowId: string,
    readonly version: number,
    readonly change: 'created' | 'updated' | 'activated' | 'deactivated' | 'deleted',
  ) {}
}
