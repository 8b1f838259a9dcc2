/** The event lives with the triggers (which keep the cluster's daemons in step on it); re-exported here. */
export { WorkflowChangedEvent } from '../../triggers/events/workflow-changed.event.js';
