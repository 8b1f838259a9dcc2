import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JSON_OBJECT } from '../openapi/response-schemas.js';
import { ObserverEventsSchema, ObserverListSchema, ObserverSchema, ObserverStateSchema } from './observer.schemas.js';
import type { PluginState } from '@anchorflow/plugin-sdk';
import paymentObserver, { LogReader, type LogEntry, type ObserverStatus, REG_PREFIX, type Registration, regKey, replay, stateHash, statusKey } from '@anchorflow/plugin-payment-observer';
import { RequirePermission } from '../auth/access.decorators.js';
import { ApiError } from '../common/api-error.js';
import { PLUGIN_STATE } from '../core/database/database.tokens.js';

const MAX_PAGE = 10_000;

type ObserverView = Omit<Registration, 'activeBy'> & { active: boolean; status: ObserverStatus | null };

/**
 * Read side of the payment observer plugin (plugins/payment-observer). The SDK has no way for a plugin
 * to add REST routes yet, so the daemon reads the plugin's durable state (the observer log, cursor and
 * status the follower service writes) here. Everything observer-specific in the daemon is in this folder.
 */
@ApiTags('observers')
@Controller('observers')
@RequirePermission('plugins:read')
export class ObserversController {
  private readonly state: PluginState;

  constructor(@Inject(PLUGIN_STATE) pluginState: (plugin: string) => PluginState) {
    this.state = pluginState(paymentObserver.name);
  }

  private async registration(id: string): Promise<Registration> {
    const reg = await this.state.get<Registration>(regKey(id));
    if (!reg) throw new ApiError(404, 'NOT_FOUND', `observer ${id} not found (observers are created by active workflows with a payments.trigger.evm node; the id is <workflowId>.<nodeId>)`);
    return reg;
  }

  @Get()
  @ApiOperation({ summary: 'Payment observers with their progress: head, ingested block, blocks behind, events/s, RPC URL in use, last error; `active` is false while the workflow is deactivated (the observer is not followed)' })
  @ApiOkResponse({ type: ObserverListSchema })
  async list(): Promise<{ observers: ObserverView[] }> {
    const regs = await this.state.list<Registration>(REG_PREFIX);
    const observers = await Promise.all(regs.map(async ({ value }) => this.view(value)));
    return { observers };
  }

  /** the registration without the run token, whether it is followed, and the follower's progress */
  private async view(reg: Registration): Promise<ObserverView> {
    const { activeBy, ...rest } = reg;
    return { ...rest, active: activeBy !== undefined, status: (await this.state.get<ObserverStatus>(statusKey(reg.id))) ?? null };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One payment observer and its progress' })
  @ApiOkResponse({ type: ObserverSchema })
  async one(@Param('id') id: string): Promise<ObserverView> {
    return this.view(await this.registration(id));
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'The observer log from a position on (events, retractions, alerts), in log order; pass nextCursor back as cursor' })
  @ApiOkResponse({ type: ObserverEventsSchema })
  async events(@Param('id') id: string, @Query('cursor') cursor?: string, @Query('limit') limit?: string): Promise<{ entries: LogEntry[]; nextCursor: number }> {
    await this.registration(id);
    const from = cursor === undefined || cursor === '' ? 0 : Number(cursor);
    if (!Number.isInteger(from) || from < 0) throw new ApiError(400, 'BAD_REQUEST', `cursor must be a log position (a non-negative integer), got ${JSON.stringify(cursor)}`);
    const max = limit === undefined || limit === '' ? 1_000 : Number(limit);
    if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE) throw new ApiError(400, 'BAD_REQUEST', `limit must be an integer from 1 to ${MAX_PAGE}, got ${JSON.stringify(limit)}`);
    const entries = await new LogReader(this.state, id).entries(from, max);
    return { entries, nextCursor: entries.length ? entries[entries.length - 1]!.pos + 1 : from };
  }

  @Get(':id/state')
  @ApiOperation({ summary: 'The state folded from the whole log by the pure reducer (per-flow state, per-address totals) and its sha256' })
  @ApiOkResponse({ type: ObserverStateSchema })
  async foldedState(@Param('id') id: string): Promise<{ hash: string; state: ReturnType<typeof replay> }> {
    await this.registration(id);
    const state = replay(await new LogReader(this.state, id).entries());
    return { hash: stateHash(state), state };
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Counts: events, retractions, alerts, flows by status, addresses; and the follower progress' })
  @ApiOkResponse({ schema: JSON_OBJECT })
  async stats(@Param('id') id: string): Promise<Record<string, unknown>> {
    await this.registration(id);
    const state = replay(await new LogReader(this.state, id).entries());
    const flows: Record<string, number> = {};
    for (const f of Object.values(state.flows)) flows[f.status] = (flows[f.status] ?? 0) + 1;
    const addresses = new Set(Object.values(state.totals).flatMap((t) => Object.keys(t))).size;
    return { events: state.events, retracted: state.retracted, alerts: state.alerts, lastPos: state.lastPos, flows, addresses, tokens: Object.keys(state.totals).length, status: (await this.state.get<ObserverStatus>(statusKey(id))) ?? null };
  }
}
