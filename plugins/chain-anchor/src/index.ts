// The Casper half of the chain-anchor plugin (the EVM half, the batcher and the nodes live beside it).
export * from './casper/index.js';
