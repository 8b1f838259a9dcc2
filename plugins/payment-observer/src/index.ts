import { definePlugin } from '@anchorflow/plugin-sdk';
import { PaymentObserverConfig } from './config.js';
import { followerService } from './follower.service.js';
import { casperTrigger, evmTrigger, reorgTrigger } from './triggers.js';

export { PaymentObserverConfig, followerService, casperTrigger, evmTrigger, reorgTrigger };
// the Casper follower (casper-js-sdk) is not exported from here: it is loaded when a Casper observer starts
export { normaliseCasperTarget, CSPR_DECIMALS } from './casper-target.js';
export { migrateLegacyLog } from './log-store.js';
export { Follower, type FollowerTuning, type StepResult } from './follower.js';
export { FailoverRpc, RpcAnswerError, isLimitError } from './rpc.js';
export { LogReader } from './log-store.js';
export { parseEventSpec, PRESETS } from './events.js';
export { CasperPaymentFilter, CasperTriggerParams, EvmTriggerParams, PaymentFilter, ReorgTriggerParams } from './params.js';
export { matchesFilter, toPayload, type PaymentPayload } from './payload.js';
export { observerId } from './triggers.js';
export * from './model.js';
export * from './reducer.js';

/** The default export is what the loader looks for (package.json `anchorflow.entry`). */
export default definePlugin({
  name: '@anchorflow/plugin-payment-observer',
  version: '0.1.0',
  nodes: [],
  triggers: [evmTrigger, casperTrigger, reorgTrigger],
  services: [followerService],
  config: PaymentObserverConfig,
});
