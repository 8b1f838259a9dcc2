// One fresh anvil per test file (TEST-INFRA.md): shared with the chain-anchor plugin's own specs.
export { ANVIL_KEY_0, anvilBinary, startAnvil, type Anvil } from '../../plugins/chain-anchor/src/spec-support/anvil.js';
