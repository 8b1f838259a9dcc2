import { Inject, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { ExecutionReader, WorkflowRepository } from '@anchorflow/engine';
import type { PluginState } from '@anchorflow/plugin-sdk';
import { can, type Permission } from '@anchorflow/security';
import {
  decodeExecutionEvent, decodePresence, decodeWorkflowChanged, decodeWorkflowPatched, encodeExecutionEvent, encodePresence, encodeWorkflowPatched,
  executionEventsSubject, executionEventsWildcard, presenceSubject, presenceWildcard, workflowChangedSubject, workflowPatchedSubject, workflowPatchedWildcard,
} from '@anchorflow/transport';
import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import type { ApiKeys } from '../auth/api-keys.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { AuthPrincipal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { EXECUTION_READER, PLUGIN_STATE, WORKFLOW_REPOSITORY } from '../core/database/database.tokens.js';
import { ENGINE, NATS_CLUSTER } from '../engine/engine.tokens.js';
import { ENGINE_EVENTS, type EngineEvents } from '../events/engine-events.js';
import type { NatsCluster } from '../engine/nats-cluster.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { AUTHENTICATOR } from '../security/security.tokens.js';
import { ApiKeys as ApiKeysClass } from '../auth/api-keys.js';
import { TriggerRegistry } from '../triggers/trigger-registry.service.js';
import { WorkflowChangedEvent } from '../workflows/events/workflow-changed.event.js';
import { toWorkflowDto } from '../workflows/workflow.presenter.js';
import type { EventPublisher, WorkflowTriggers, WorkflowValidator } from '../workflows/workflow-ports.js';
import { EDITOR_PROTOCOL_VERSION, type EngineEventLike, ExecutionWatchers, foldState, type LiveMessage, RateLimiter, RecentEvents, toLiveMessage } from './live-executions.js';
import { checkOps, type WorkflowOp } from './workflow-ops.js';
import { EDITOR_STATE_PLUGIN, type PatchResult, WorkflowPatcher } from './workflow-patcher.js';


type PresenceUser = { socketId: string; who: string; name: string; selectedNodeId: string | null };
/** cluster presence: repeated this often, forgotten after this long without a repeat (a daemon died) */
const PRESENCE_REPEAT_MS = 10_000;
const PRESENCE_EXPIRY_MS = 30_000;
const REMOTE_CHANGE_GRACE_MS = 250;

/** Largest accepted client message (JSON characters); bigger ones get an `error` event. */
export const EDITOR_MAX_MESSAGE_CHARS = 512 * 1024;
/** Per-socket rate limit: messages per second, and the burst allowed. */
export const EDITOR_RATE_PER_SECOND = 30;
export const EDITOR_RATE_BURST = 120;

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const CLIENT_EVENTS: Record<string, Permission> = {
  'workflow:watch': 'workflows:read',
  'workflow:unwatch': 'workflows:read',
  'workflow:select': 'workflows:read',
  'workflow:history': 'workflows:read',
  'workflow:patch': 'workflows:write',
  'execution:watch': 'executions:read',
  'execution:unwatch': 'executions:read',
};

interface SocketData {
  principal: AuthPrincipal;
  /** the bearer credential, re-checked before each patch (an expired token or revoked key stops editing) */
  credential: string;
  who: string;
  name: string;
  limiter: RateLimiter;
  workflows: Set<string>;
}
type EditorSocket = Socket & { data: SocketData };

class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Ack = (answer: unknown) => void;

function object(payload: unknown): Record<string, unknown> {
  return payload as Record<string, unknown>;
}

function id(payload: Record<string, unknown>, field: string): string {
  const value = payload[field];
  if (typeof value !== 'string' || !ID_RE.test(value)) throw new ClientError('MALFORMED', `${field} must be an id (letters, digits, _ and -, at most 128)`);
  return value;
}

/**
 * Socket.io namespace `/editor` (ARCHITECTURE §6). The handshake carries the REST API's bearer token
 * (`auth: {token}` or an `Authorization: Bearer` header): API key or editor token, checked by the same
 * Authenticator. Each client event is checked against the role's permission; every message in both
 * directions carries `v: 1`; malformed, oversized, unknown or too frequent messages get an `error` event
 * (and a negative acknowledgement when the client asked for one), never a crash.
 *
 * Client → server (all acknowledged): `workflow:watch {workflowId}` (answers the current version and
 * definition), `workflow:unwatch`, `workflow:select {workflowId, nodeId}` (presence),
 * `workflow:patch {workflowId, baseVersion, ops, patchId?}`, `workflow:history {workflowId}`,
 * `execution:watch {executionId}` (sends `execution:state`, then live events), `execution:unwatch`.
 * Server → client: `execution:state`, `execution:started`, `node:status`, `execution:cancel-requested`,
 * `execution:finished` (each with the engine's `seq`), `workflow:changed {workflowId, version, by, ops}`,
 * `workflow:presence {workflowId, users}`, `error {code, message, event?}`.
 */
@WebSocketGateway({ namespace: '/editor', maxHttpBufferSize: 4 * 1024 * 1024, serveClient: false })
export class EditorGateway implements OnGatewayInit<Namespace>, OnGatewayConnection<EditorSocket>, OnGatewayDisconnect<EditorSocket>, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private ns?: Namespace;
  private readonly logger: Logger;
  readonly patcher: WorkflowPatcher;
  private readonly watchers = new ExecutionWatchers<EditorSocket>(
    (socket, m) => socket.emit(m.event, m.data),
    // every socket is in a room named by its id: one encoding of the message for all of them
    (sockets, m) => this.ns?.to(sockets.map((s) => s.id)).emit(m.event, m.data),
  );
  private readonly recent = new RecentEvents();
  /** workflowId → socket id → presence */
  private readonly presence = new Map<string, Map<string, { who: string; name: string; selectedNodeId: string | null }>>();
  /** cluster mode: workflowId → daemonId → that daemon's users and when it last said so */
  private readonly remotePresence = new Map<string, Map<string, { users: PresenceUser[]; at: number }>>();
  private presenceTimer?: NodeJS.Timeout;
  /** cluster mode: another daemon's workflow changes waiting a moment for the patch message they may belong to */
  private readonly remoteChanges = new Map<string, NodeJS.Timeout>();
  /** `<workflowId>@<version>` made by a patch here (announced with its ops, not as a plain change) */
  private readonly patched = new Set<string>();
  private busSubscription?: { unsubscribe(): void };
  private engineSubscription?: { unsubscribe(): void };
  private natsSubscriptions: Array<{ unsubscribe(): void }> = [];

  constructor(
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Inject(ApiKeysClass) private readonly apiKeys: ApiKeys,
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository,
    @Inject(EXECUTION_READER) private readonly executions: ExecutionReader,
    @Inject(ENGINE) private readonly validator: WorkflowValidator,
    @Inject(TriggerRegistry) triggers: WorkflowTriggers,
    @Inject(PLUGIN_STATE) pluginState: (plugin: string) => PluginState,
    @Inject(NATS_CLUSTER) private readonly cluster: NatsCluster | null,
    @Inject(EventBus) private readonly eventBus: EventBus,
    @Inject(ENGINE_EVENTS) private readonly engineEvents: EngineEvents,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.logger = logger.child({ component: 'editor-gateway' });
    const events: EventPublisher = { publish: (e: object) => this.eventBus.publish(e) };
    this.patcher = new WorkflowPatcher(workflows, validator, triggers, events, pluginState(EDITOR_STATE_PLUGIN), Date.now, (r) => this.patched.add(`${r.workflowId}@${r.version}`));
  }

  afterInit(ns: Namespace): void {
    this.ns = ns;
    ns.use((socket, next) => {
      void this.authenticate(socket as EditorSocket).then(
        () => next(),
        (err: unknown) => {
          const refused = new Error(err instanceof ApiError ? err.message : 'authentication failed') as Error & { data?: unknown };
          refused.data = { v: EDITOR_PROTOCOL_VERSION, code: 'UNAUTHORIZED', message: refused.message };
          if (!(err instanceof ApiError)) this.logger.error({ err }, 'socket authentication failed unexpectedly');
          next(refused);
        },
      );
    });
  }

  private async authenticate(socket: EditorSocket): Promise<void> {
    const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    const header = socket.handshake.headers.authorization;
    const credential = typeof fromAuth === 'string' ? fromAuth : typeof header === 'string' ? header.replace(/^Bearer\s+/i, '') : undefined;
    const principal = await this.authenticator.authenticate(credential === undefined ? {} : { authorization: `Bearer ${credential}` });
    let name = principal.keyName ?? '';
    if (!name) name = await this.apiKeys.get(principal.keyId).then((k) => k.name, () => '');
    socket.data = { principal, credential: credential!, who: `key:${principal.keyId}`, name: name || principal.keyId, limiter: new RateLimiter(EDITOR_RATE_PER_SECOND, EDITOR_RATE_BURST), workflows: new Set() };
  }

  handleConnection(socket: EditorSocket): void {
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event in CLIENT_EVENTS) return;
      const ack = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as Ack) : undefined;
      this.refuse(socket, ack, event, new ClientError('UNKNOWN_EVENT', `unknown event '${String(event).slice(0, 64)}'; known: ${Object.keys(CLIENT_EVENTS).join(', ')}`));
    });
    this.on(socket, 'workflow:watch', (p) => this.watchWorkflow(socket, id(p, 'workflowId')));
    this.on(socket, 'workflow:unwatch', (p) => this.unwatchWorkflow(socket, id(p, 'workflowId')));
    this.on(socket, 'workflow:select', (p) => this.select(socket, p));
    this.on(socket, 'workflow:history', (p) => this.history(id(p, 'workflowId')));
    this.on(socket, 'workflow:patch', (p) => this.patch(socket, p));
    this.on(socket, 'execution:watch', (p) => this.watchExecution(socket, id(p, 'executionId')));
    this.on(socket, 'execution:unwatch', async (p) => {
      this.watchers.unwatch(id(p, 'executionId'), socket);
      return {};
    });
  }

  handleDisconnect(socket: EditorSocket): void {
    this.watchers.unwatchAll(socket);
    for (const workflowId of socket.data?.workflows ?? []) this.leavePresence(workflowId, socket.id);
  }

  /** One client event: rate limit, size, `v: 1`, permission, then the handler; its answer goes to the ack. */
  private on(socket: EditorSocket, event: string, handler: (payload: Record<string, unknown>) => Promise<Record<string, unknown>>): void {
    socket.on(event, (payload: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as Ack) : undefined;
      void this.handle(socket, event, payload, reply, handler);
    });
  }

  private async handle(socket: EditorSocket, event: string, payload: unknown, ack: Ack | undefined, handler: (payload: Record<string, unknown>) => Promise<Record<string, unknown>>): Promise<void> {
    try {
      if (!socket.data.limiter.take()) throw new ClientError('RATE_LIMITED', `too many messages: at most ${EDITOR_RATE_PER_SECOND} per second (bursts of ${EDITOR_RATE_BURST})`);
      let size: number;
      try {
        size = JSON.stringify(payload ?? null).length;
      } catch {
        throw new ClientError('MALFORMED', 'the message is not JSON');
      }
      if (size > EDITOR_MAX_MESSAGE_CHARS) throw new ClientError('MESSAGE_TOO_LARGE', `message of ${size} characters; at most ${EDITOR_MAX_MESSAGE_CHARS}`);
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new ClientError('MALFORMED', `${event} takes an object with v: ${EDITOR_PROTOCOL_VERSION}`);
      if (object(payload).v !== EDITOR_PROTOCOL_VERSION) throw new ClientError('MALFORMED', `every message must carry v: ${EDITOR_PROTOCOL_VERSION} (got ${JSON.stringify(object(payload).v ?? null)})`);
      const permission = CLIENT_EVENTS[event]!;
      if (!can(socket.data.principal.role, permission)) throw new ClientError('FORBIDDEN', `role '${socket.data.principal.role}' lacks permission '${permission}' needed for ${event}`, { permission });
      const answer = await handler(object(payload));
      ack?.({ v: EDITOR_PROTOCOL_VERSION, ok: true, ...answer });
    } catch (err) {
      if (err instanceof ClientError) return this.refuse(socket, ack, event, err);
      this.logger.error({ err, event }, 'editor socket handler failed');
      this.refuse(socket, ack, event, new ClientError('INTERNAL', 'the server could not handle this message; it was logged'));
    }
  }

  private refuse(socket: EditorSocket, ack: Ack | undefined, event: string, err: ClientError): void {
    const body = { v: EDITOR_PROTOCOL_VERSION, ok: false, event, code: err.code, message: err.message, ...err.details };
    socket.emit('error', body);
    ack?.(body);
  }

  private async watchWorkflow(socket: EditorSocket, workflowId: string): Promise<Record<string, unknown>> {
    const stored = await this.workflows.get(workflowId);
    if (!stored) throw new ClientError('NOT_FOUND', `workflow ${workflowId} not found`);
    await socket.join(`workflow:${workflowId}`);
    socket.data.workflows.add(workflowId);
    let users = this.presence.get(workflowId);
    if (!users) this.presence.set(workflowId, (users = new Map()));
    users.set(socket.id, { who: socket.data.who, name: socket.data.name, selectedNodeId: null });
    this.emitPresence(workflowId);
    return { workflowId, version: stored.version, workflow: toWorkflowDto(stored), problems: this.validator.validate(stored.definition) };
  }

  private async unwatchWorkflow(socket: EditorSocket, workflowId: string): Promise<Record<string, unknown>> {
    await socket.leave(`workflow:${workflowId}`);
    socket.data.workflows.delete(workflowId);
    this.leavePresence(workflowId, socket.id);
    return { workflowId };
  }

  private async select(socket: EditorSocket, p: Record<string, unknown>): Promise<Record<string, unknown>> {
    const workflowId = id(p, 'workflowId');
    const nodeId = p.nodeId === null || p.nodeId === undefined ? null : id(p, 'nodeId');
    const me = this.presence.get(workflowId)?.get(socket.id);
    if (!me) throw new ClientError('NOT_WATCHING', `watch workflow ${workflowId} (workflow:watch) before selecting in it`);
    me.selectedNodeId = nodeId;
    this.emitPresence(workflowId);
    return { workflowId, nodeId };
  }

  private leavePresence(workflowId: string, socketId: string): void {
    const users = this.presence.get(workflowId);
    if (!users?.delete(socketId)) return;
    if (users.size === 0) this.presence.delete(workflowId);
    this.emitPresence(workflowId);
  }

  /** this daemon's users of a workflow changed: tell its sockets and the other daemons */
  private emitPresence(workflowId: string): void {
    this.publishPresence(workflowId);
    this.sendPresence(workflowId);
  }

  private localUsers(workflowId: string): PresenceUser[] {
    return [...(this.presence.get(workflowId) ?? new Map()).entries()].map(([socketId, u]) => ({ socketId, ...u }));
  }

  /** everyone who has the workflow open, on this daemon and (cluster mode) on the others */
  private sendPresence(workflowId: string): void {
    const remote = [...(this.remotePresence.get(workflowId)?.values() ?? [])].filter((r) => Date.now() - r.at < PRESENCE_EXPIRY_MS).flatMap((r) => r.users);
    this.ns?.to(`workflow:${workflowId}`).emit('workflow:presence', { v: EDITOR_PROTOCOL_VERSION, workflowId, users: [...this.localUsers(workflowId), ...remote] });
  }

  private publishPresence(workflowId: string): void {
    if (!this.cluster) return;
    try {
      this.cluster.nc.publish(presenceSubject(workflowId, this.cluster.prefix), encodePresence({ daemonId: this.cluster.daemonId, workflowId, users: this.localUsers(workflowId) }));
    } catch (err) {
      this.logger.warn({ err: String(err), workflowId }, 'presence not relayed to the other daemons');
    }
  }

  /** every 10 s: repeat this daemon's presence, and drop (and show the end of) daemons gone silent */
  private presenceTick(): void {
    for (const workflowId of this.presence.keys()) this.publishPresence(workflowId);
    for (const [workflowId, daemons] of this.remotePresence) {
      let expired = false;
      for (const [daemonId, r] of daemons) {
        if (Date.now() - r.at < PRESENCE_EXPIRY_MS) continue;
        daemons.delete(daemonId);
        expired = true;
      }
      if (!daemons.size) this.remotePresence.delete(workflowId);
      if (expired) this.sendPresence(workflowId);
    }
  }

  private async history(workflowId: string): Promise<Record<string, unknown>> {
    const versions = await this.patcher.history(workflowId);
    if (!versions) throw new ClientError('NOT_FOUND', `workflow ${workflowId} not found`);
    return { workflowId, versions };
  }

  private async patch(socket: EditorSocket, p: Record<string, unknown>): Promise<Record<string, unknown>> {
    const workflowId = id(p, 'workflowId');
    const baseVersion = p.baseVersion;
    if (!Number.isSafeInteger(baseVersion) || (baseVersion as number) < 1) throw new ClientError('MALFORMED', 'baseVersion must be the version (integer >= 1) the ops were made on');
    const problems = checkOps(p.ops);
    if (problems.length) throw new ClientError('MALFORMED', `invalid ops: ${problems.slice(0, 10).join('; ')}`, { problems });
    if (p.patchId !== undefined && (typeof p.patchId !== 'string' || !ID_RE.test(p.patchId))) throw new ClientError('MALFORMED', 'patchId must be an id (letters, digits, _ and -, at most 128)');
    for (const k of Object.keys(p)) if (!['v', 'workflowId', 'baseVersion', 'ops', 'patchId'].includes(k)) throw new ClientError('MALFORMED', `${k} is not a field of workflow:patch`);
    // the credential may have expired or been revoked since the handshake
    try {
      socket.data.principal = await this.authenticator.authenticate({ authorization: `Bearer ${socket.data.credential}` });
    } catch (err) {
      if (err instanceof ApiError) throw new ClientError('UNAUTHORIZED', 'your credentials expired or were revoked: log in again; the patch was not applied');
      throw err;
    }
    if (!can(socket.data.principal.role, 'workflows:write')) throw new ClientError('FORBIDDEN', `role '${socket.data.principal.role}' lacks permission 'workflows:write' needed for workflow:patch`);
    const result: PatchResult = await this.patcher.patch({ workflowId, baseVersion: baseVersion as number, ops: p.ops as WorkflowOp[], by: socket.data.who, patchId: p.patchId as string | undefined });
    if (!result.ok) {
      // a conflict or an invalid patch is an answer, not a protocol error
      return { ...result, ok: false } as unknown as Record<string, unknown>;
    }
    if (!result.replayed && result.ops.length) {
      const changed = { v: EDITOR_PROTOCOL_VERSION, workflowId, version: result.version, by: socket.data.who, ops: result.ops, problems: result.problems };
      socket.to(`workflow:${workflowId}`).emit('workflow:changed', changed);
      this.publishPatch(changed);
    }
    return result as unknown as Record<string, unknown>;
  }

  private async watchExecution(socket: EditorSocket, executionId: string): Promise<Record<string, unknown>> {
    this.watchers.watch(executionId, socket);
    try {
      const events: EngineEventLike[] = [];
      for (;;) {
        const page = (await this.executions.events(executionId, { afterSeq: events.at(-1)?.seq ?? 0, limit: 1000 })) as unknown as EngineEventLike[];
        events.push(...page);
        if (page.length < 1000) break;
      }
      if (events.length === 0 && this.recent.of(executionId).length === 0 && !(await this.executions.get(executionId))) throw new ClientError('NOT_FOUND', `execution ${executionId} not found`);
      const stored = events.map(toLiveMessage).filter((m): m is LiveMessage => m !== undefined);
      const recent = this.recent.of(executionId).map(toLiveMessage).filter((m): m is LiveMessage => m !== undefined);
      const state = foldState(executionId, [...stored, ...recent]);
      socket.emit('execution:state', state);
      this.watchers.ready(executionId, socket, state.seq);
      return { executionId, seq: state.seq, status: state.status };
    } catch (err) {
      this.watchers.unwatch(executionId, socket);
      throw err;
    }
  }

  onModuleInit(): void {
    this.busSubscription = this.eventBus.subscribe({
      next: (event: unknown) => {
        try {
          if (event instanceof WorkflowChangedEvent) this.onWorkflowChanged(event);
        } catch (err) {
          this.logger.error({ err }, 'could not tell editor sockets about a changed workflow');
        }
      },
    });
    this.engineSubscription = this.engineEvents.subscribe((event) => {
      try {
        const e = event as unknown as EngineEventLike;
        if (typeof e?.type !== 'string' || typeof e.executionId !== 'string' || typeof e.seq !== 'number') return;
        this.relay(e);
        this.publishEvent(e);
      } catch (err) {
        this.logger.error({ err }, 'could not relay an event to editor sockets');
      }
    });
  }

  /** hot path (every engine event): a message is only built when someone watches */
  private relay(e: EngineEventLike): void {
    this.recent.add(e);
    if (e.type === 'execution.started') {
      // editors of the workflow learn about runs they did not start (to watch them)
      // (remote daemons' events come through here too, so the local rooms are the whole audience)
      const room = `workflow:${String(e.workflowId)}`;
      if (this.ns?.adapter.rooms.has(room)) {
        const m = toLiveMessage(e);
        if (m?.event === 'execution:started') this.ns.to(room).emit('execution:started', m.data);
      }
    }
    if (!this.watchers.isWatched(e.executionId)) return;
    const m = toLiveMessage(e);
    if (m) this.watchers.publish(m);
  }

  private onWorkflowChanged(event: WorkflowChangedEvent): void {
    const key = `${event.workflowId}@${event.version}`;
    if (this.patched.delete(key)) return; // announced with its ops by the patch
    this.ns?.to(`workflow:${event.workflowId}`).emit('workflow:changed', { v: EDITOR_PROTOCOL_VERSION, workflowId: event.workflowId, version: event.version, by: null, change: event.change });
  }

  private publishEvent(e: EngineEventLike): void {
    if (!this.cluster) return;
    try {
      this.cluster.nc.publish(executionEventsSubject(e.executionId, this.cluster.prefix), encodeExecutionEvent({ daemonId: this.cluster.daemonId, event: e }));
    } catch (err) {
      this.logger.warn({ err: String(err), executionId: e.executionId }, 'execution event not relayed to the other daemons');
    }
  }

  private publishPatch(changed: { workflowId: string; version: number; by: string; ops: WorkflowOp[]; problems: unknown[] }): void {
    if (!this.cluster) return;
    try {
      this.cluster.nc.publish(workflowPatchedSubject(changed.workflowId, this.cluster.prefix), encodeWorkflowPatched({ daemonId: this.cluster.daemonId, ...changed }));
    } catch (err) {
      this.logger.warn({ err: String(err), workflowId: changed.workflowId }, 'workflow patch not relayed to the other daemons');
    }
  }

  onApplicationBootstrap(): void {
    const cluster = this.cluster;
    if (!cluster) return;
    this.presenceTimer = setInterval(() => this.presenceTick(), PRESENCE_REPEAT_MS);
    this.presenceTimer.unref();
    this.natsSubscriptions.push(
      cluster.nc.subscribe(executionEventsWildcard(cluster.prefix), {
        callback: (err, msg) => {
          if (err) return;
          const d = decodeExecutionEvent(msg.data);
          if (!d.ok) return this.logger.warn({ reason: d.reason }, 'rejected a malformed execution event message');
          if (d.value.daemonId === cluster.daemonId) return;
          this.relay(d.value.event);
        },
      }),
      cluster.nc.subscribe(presenceWildcard(cluster.prefix), {
        callback: (err, msg) => {
          if (err) return;
          const d = decodePresence(msg.data);
          if (!d.ok) return this.logger.warn({ reason: d.reason }, 'rejected a malformed presence message');
          const { daemonId, workflowId, users } = d.value;
          if (daemonId === cluster.daemonId) return;
          let daemons = this.remotePresence.get(workflowId);
          if (!daemons) this.remotePresence.set(workflowId, (daemons = new Map()));
          if (users.length) daemons.set(daemonId, { users, at: Date.now() });
          else daemons.delete(daemonId);
          if (!daemons.size) this.remotePresence.delete(workflowId);
          this.sendPresence(workflowId);
        },
      }),
      // a change made through the REST API of another daemon (its patches come with their ops, below)
      cluster.nc.subscribe(workflowChangedSubject(cluster.prefix), {
        callback: (err, msg) => {
          if (err) return;
          const d = decodeWorkflowChanged(msg.data);
          if (!d.ok || d.value.daemonId === cluster.daemonId) return;
          const event = new WorkflowChangedEvent(d.value.workflowId, d.value.version, d.value.change as WorkflowChangedEvent['change']);
          // a patch's own message (with its ops) may still be on its way on the other subject: give it a moment
          const key = `${event.workflowId}@${event.version}`;
          const timer = setTimeout(() => (this.remoteChanges.delete(key), this.onWorkflowChanged(event)), REMOTE_CHANGE_GRACE_MS);
          timer.unref();
          this.remoteChanges.set(key, timer);
        },
      }),
      cluster.nc.subscribe(workflowPatchedWildcard(cluster.prefix), {
        callback: (err, msg) => {
          if (err) return;
          const d = decodeWorkflowPatched(msg.data);
          if (!d.ok) return this.logger.warn({ reason: d.reason }, 'rejected a malformed workflow patch message');
          if (d.value.daemonId === cluster.daemonId) return;
          const { workflowId, version, by, ops, problems } = d.value;
          // its WorkflowChangedEvent, announced by the patching daemon too, needs no second message
          const key = `${workflowId}@${version}`;
          const waiting = this.remoteChanges.get(key);
          if (waiting) {
            clearTimeout(waiting);
            this.remoteChanges.delete(key);
          } else {
            this.patched.add(key);
            if (this.patched.size > 10_000) this.patched.delete(this.patched.values().next().value!);
          }
          this.ns?.to(`workflow:${workflowId}`).emit('workflow:changed', { v: EDITOR_PROTOCOL_VERSION, workflowId, version, by, ops, problems });
        },
      }),
    );
  }

  onModuleDestroy(): void {
    if (this.presenceTimer) clearInterval(this.presenceTimer);
    this.busSubscription?.unsubscribe();
    this.engineSubscription?.unsubscribe();
    for (const s of this.natsSubscriptions) s.unsubscribe();
    this.natsSubscriptions = [];
  }

  /** for the benchmark and tests: sockets watching an execution */
  watcherCount(executionId?: string): number {
    return this.watchers.watcherCount(executionId);
  }
}
