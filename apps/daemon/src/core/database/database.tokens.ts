/** The open database handle (from openDatabase in main.ts, or a test database), provided as a value. */
export const DATABASE = Symbol('DATABASE');
/** ExecutionStore (engine port) */
export const EXECUTION_STORE = Symbol('EXECUTION_STORE');
/** WorkflowRepository (engine port) */
export const WORKFLOW_REPOSITORY = Symbol('WORKFLOW_REPOSITORY');
/** ExecutionReader (engine port) */
export const EXECUTION_READER = Symbol('EXECUTION_READER');
/** (plugin: string) => PluginState */
export const PLUGIN_STATE = Symbol('PLUGIN_STATE');
/** ExecutionLeases (engine port): which daemon runs which execution */
export const EXECUTION_LEASES = Symbol('EXECUTION_LEASES');
/** NamedLeases (engine port): one-per-cluster services and trigger sources */
export const NAMED_LEASES = Symbol('NAMED_LEASES');
/** () => Promise<void>: throws when the database does not answer */
export const DATABASE_PING = Symbol('DATABASE_PING');
