import { definePlugin } from '@anchorflow/plugin-sdk';
import { approvalNode } from './nodes/approval/approval.node.js';
import { cronTriggerNode } from './nodes/cron-trigger/cron-trigger.node.js';
import { httpNode } from './nodes/http/http.node.js';
import { ifNode } from './nodes/if/if.node.js';
import { manualTriggerNode } from './nodes/manual-trigger/manual-trigger.node.js';
import { natsTriggerNode } from './nodes/nats-trigger/nats-trigger.node.js';
import { mergeNode } from './nodes/merge/merge.node.js';
import { noopNode } from './nodes/noop/noop.node.js';
import { setNode } from './nodes/set/set.node.js';
import { subworkflowNode } from './nodes/subworkflow/subworkflow.node.js';
import { switchNode } from './nodes/switch/switch.node.js';
import { transformNode } from './nodes/transform/transform.node.js';
import { waitNode } from './nodes/wait/wait.node.js';
import { webhookTriggerNode } from './nodes/webhook-trigger/webhook-trigger.node.js';

export { approvalNode, cronTriggerNode, httpNode, natsTriggerNode, ifNode, manualTriggerNode, mergeNode, noopNode, setNode, subworkflowNode, switchNode, transformNode, waitNode, webhookTriggerNode };
export { approvalToken, type ApprovalDecision } from './nodes/approval/approval.node.js';
export { ApprovalParams } from './nodes/approval/approval.params.js';
export { SubworkflowParams } from './nodes/subworkflow/subworkflow.params.js';
export { switchPorts } from './nodes/switch/switch.node.js';
export { CronTriggerParams } from './nodes/cron-trigger/cron-trigger.params.js';
export { HttpParams } from './nodes/http/http.params.js';
export { IfParams } from './nodes/if/if.params.js';
export { ManualTriggerParams } from './nodes/manual-trigger/manual-trigger.params.js';
export { MergeParams } from './nodes/merge/merge.params.js';
export { NatsTriggerParams } from './nodes/nats-trigger/nats-trigger.params.js';
export { NoopParams } from './nodes/noop/noop.params.js';
export { SetParams } from './nodes/set/set.params.js';
export { SwitchCase, SwitchParams } from './nodes/switch/switch.params.js';
export { TransformParams } from './nodes/transform/transform.params.js';
export { WaitParams } from './nodes/wait/wait.params.js';
export { WEBHOOK_PATH_RE, WebhookTriggerParams } from './nodes/webhook-trigger/webhook-trigger.params.js';

export default definePlugin({
  name: '@anchorflow/plugin-core',
  version: '0.1.0',
  nodes: [manualTriggerNode, webhookTriggerNode, cronTriggerNode, natsTriggerNode, transformNode, setNode, ifNode, switchNode, mergeNode, waitNode, httpNode, noopNode, approvalNode, subworkflowNode],
});
