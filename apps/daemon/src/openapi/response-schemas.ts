import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/**
 * OpenAPI descriptions of answers whose handlers return plain interfaces (Page<…>, views). Only for
 * `@ApiOkResponse({ type })`: nothing validates against these classes at run time.
 */

/** a JSON object of any shape (inputs, outputs, details) */
export const JSON_OBJECT = { type: 'object', additionalProperties: true } as const;

const EXECUTION_STATUS = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'waiting'];

export class ErrorDetailSchema {
  @ApiProperty({ example: 'INVALID_REQUEST', description: 'stable, machine-readable: INVALID_REQUEST, VALIDATION_FAILED, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, …' }) code!: string;
  @ApiProperty({ example: 'nodes[1].type: unknown node type core.nope' }) message!: string;
  @ApiPropertyOptional({ description: 'what exactly is wrong: for INVALID_REQUEST the list of problems [{ path, message }], else an object', oneOf: [{ type: 'array', items: JSON_OBJECT }, JSON_OBJECT], example: { role: 'viewer', permission: 'workflows:write' } }) details?: unknown;
}

/** The body of every 4xx/5xx answer. */
export class ErrorEnvelopeSchema {
  @ApiProperty({ type: ErrorDetailSchema }) error!: ErrorDetailSchema;
}

/** Why a node or an execution failed. */
export class ErrorInfoSchema {
  @ApiProperty({ example: 'HTTP_STATUS' }) code!: string;
  @ApiProperty({ example: 'POST https://erp.example.net/notify answered 503' }) message!: string;
  @ApiProperty({ description: 'whether a retry may succeed' }) retryable!: boolean;
  @ApiPropertyOptional({ description: 'the node that failed (an execution\'s error)' }) nodeId?: string;
  @ApiPropertyOptional() retryAfterMs?: number;
  @ApiPropertyOptional({ ...JSON_OBJECT }) details?: unknown;
}

export class WorkflowSummarySchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'Invoice approved → notify' }) name!: string;
  @ApiProperty({ example: 3 }) version!: number;
  @ApiProperty() active!: boolean;
  @ApiProperty({ example: 4 }) nodeCount!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class WorkflowPageSchema {
  @ApiProperty({ type: [WorkflowSummarySchema] }) items!: WorkflowSummarySchema[];
  @ApiPropertyOptional({ description: 'pass as ?cursor for the next page; absent on the last page' }) nextCursor?: string;
}

export class ExecutionSummarySchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) workflowId!: string;
  @ApiProperty({ example: 1 }) version!: number;
  @ApiProperty({ enum: EXECUTION_STATUS }) status!: string;
  @ApiPropertyOptional({ type: () => ErrorInfoSchema, description: 'why it failed' }) error?: unknown;
  @ApiPropertyOptional() triggerNodeId?: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
}

export class ExecutionPageSchema {
  @ApiProperty({ type: [ExecutionSummarySchema] }) items!: ExecutionSummarySchema[];
  @ApiPropertyOptional({ description: 'pass as ?cursor for the next page; absent on the last page' }) nextCursor?: string;
}

export class ExecutionEventSchema {
  @ApiProperty({ example: 'node.succeeded', description: 'execution.started, node.started, node.succeeded, node.failed, node.waiting, execution.finished, …' }) type!: string;
  @ApiProperty({ example: 3 }) seq!: number;
  @ApiProperty({ format: 'uuid' }) executionId!: string;
  @ApiPropertyOptional({ example: 'http' }) nodeId?: string;
  @ApiProperty({ description: 'epoch ms', example: 1765090000000 }) at!: number;
  @ApiPropertyOptional({ description: '?format=receipt only: the event\'s history-chain link (0x + 64 hex)', example: `0x${'ab'.repeat(32)}` }) hash?: string;
}

export class ExecutionEventPageSchema {
  @ApiProperty({ type: [ExecutionEventSchema], description: 'events in seq order; each carries the fields of its type' }) items!: ExecutionEventSchema[];
  @ApiPropertyOptional({ description: 'pass as ?afterSeq to read on; absent when this page was not full' }) nextAfterSeq?: number;
  @ApiPropertyOptional({ enum: ['receipt'], description: '?format=receipt: the whole history as stored (times in epoch ms, each event with its hash), for `anchorflow receipt verify --history`' }) format?: 'receipt';
  @ApiPropertyOptional({ enum: [1], description: '?format=receipt: version of the export' }) v?: 1;
  @ApiPropertyOptional({ format: 'uuid', description: '?format=receipt: the execution' }) executionId?: string;
}

export class ReceiptProofSchema {
  @ApiProperty({ enum: [1] }) v!: 1;
  @ApiProperty({ enum: ['sha256'] }) hash!: 'sha256';
  @ApiProperty({ example: `0x${'11'.repeat(32)}` }) leaf!: string;
  @ApiProperty({ type: 'array', items: { type: 'object', properties: { side: { type: 'string', enum: ['left', 'right'] }, hash: { type: 'string' } } } }) path!: Array<{ side: string; hash: string }>;
  @ApiProperty({ example: `0x${'22'.repeat(32)}` }) root!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: '{chain, network, chainId?, txHash, block, blockHash, contract, timestamp} (ARCHITECTURE §9)' }) anchor!: Record<string, unknown>;
}

export class ReceiptSchema {
  @ApiProperty({ enum: [1] }) v!: 1;
  @ApiProperty({ format: 'uuid' }) executionId!: string;
  @ApiProperty({ format: 'uuid' }) workflowId!: string;
  @ApiProperty({ example: 1 }) version!: number;
  @ApiProperty({ enum: ['succeeded', 'failed', 'cancelled'] }) status!: string;
  @ApiProperty({ example: 12, description: 'events in the history' }) eventCount!: number;
  @ApiProperty({ example: `0x${'ab'.repeat(32)}`, description: 'hash of the last event: the head of the history\'s hash chain' }) historyHead!: string;
  @ApiProperty({ type: ReceiptProofSchema, description: 'the chain-anchor proof (ARCHITECTURE §9) whose leaf is the §9 leaf of the other members' }) proof!: ReceiptProofSchema;
}

export class ReceiptPendingSchema {
  @ApiProperty({ enum: ['anchoring'] }) status!: 'anchoring';
  @ApiProperty({ example: 3, description: 'ask again after this many seconds (also the Retry-After header)' }) retryAfterSeconds!: number;
}

export class NodeTypeSchema {
  @ApiProperty({ example: 'core.http.request' }) type!: string;
  @ApiProperty({ example: 1 }) version!: number;
  @ApiProperty({ example: 'HTTP request' }) title!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ example: 'network' }) category!: string;
  @ApiProperty({ example: '@anchorflow/plugin-core' }) plugin!: string;
  @ApiProperty({ type: [String], example: ['main'] }) inputs!: string[];
  @ApiProperty({ oneOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string', enum: ['dynamic'] }], example: ['main'] }) outputs!: string[] | 'dynamic';
  @ApiProperty() trigger!: boolean;
  @ApiProperty() pure!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'JSON Schema of the node params' }) paramsSchema!: object;
  @ApiPropertyOptional({ description: 'served by plugin workers over NATS' }) remote?: boolean;
  @ApiPropertyOptional({ enum: ['cluster'], description: '`cluster`: a trigger that runs only in cluster mode (the daemon needs nats.url); activating it without NATS is refused' }) requires?: 'cluster';
}

export class NodeTypeListSchema {
  @ApiProperty({ type: [NodeTypeSchema] }) items!: NodeTypeSchema[];
}

export class PluginRowSchema {
  @ApiProperty({ enum: ['loaded', 'failed'] }) status!: string;
  @ApiPropertyOptional({ example: '@anchorflow/plugin-core' }) name?: string;
  @ApiPropertyOptional({ example: '0.1.0' }) version?: string;
  @ApiPropertyOptional({ enum: ['built-in', 'config'] }) source?: string;
  @ApiPropertyOptional({ description: 'as listed in the config' }) spec?: string;
  @ApiPropertyOptional() dir?: string;
  @ApiPropertyOptional({ type: [String] }) nodeTypes?: string[];
  @ApiPropertyOptional({ description: 'failed only: why (NOT_FOUND, INVALID_PLUGIN, …)' }) code?: string;
  @ApiPropertyOptional({ description: 'failed only' }) reason?: string;
}

export class PluginNameVersionSchema {
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
}

export class WorkerRowSchema {
  @ApiProperty() workerId!: string;
  @ApiProperty({ type: [PluginNameVersionSchema] }) plugins!: PluginNameVersionSchema[];
  @ApiProperty({ type: [String] }) nodeTypes!: string[];
  @ApiProperty({ format: 'date-time' }) lastSeen!: string;
}

export class PluginsViewSchema {
  @ApiProperty({ type: [PluginRowSchema] }) items!: PluginRowSchema[];
  @ApiPropertyOptional({ type: [WorkerRowSchema], description: 'cluster mode only: live plugin workers' }) workers?: WorkerRowSchema[];
}

export class LivenessSchema {
  @ApiProperty({ enum: ['ok'] }) status!: string;
  @ApiProperty({ example: 123456 }) uptimeMs!: number;
}
