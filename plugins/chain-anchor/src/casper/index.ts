export { CasperClient } from './casper-client.js';
export type { CasperClientOptions, CasperBlockInfo, SignedAnchor, TxStatus } from './casper-client.js';
export type { FollowOptions, ProcessedEvent } from './sse-follower.js';
