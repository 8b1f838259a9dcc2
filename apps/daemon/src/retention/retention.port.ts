/** the port lives with its PostgreSQL repository in libs/persistence */
export type { RetentionStore } from '@anchorflow/persistence';

export const RETENTION_STORE = Symbol('RETENTION_STORE');
