import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/access.decorators.js';
import { DATABASE_PING } from '../core/database/database.tokens.js';
import { NATS_CLUSTER } from '../engine/engine.tokens.js';
import { PLUGIN_RUNTIME, type PluginRuntime } from '../plugins/plugins.tokens.js';
import { pluginShortName } from '@anchorflow/plugin-sdk';
import type { NatsCluster } from '../engine/nats-cluster.js';
import { ReadinessRegistry } from './readiness-registry.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';
import { LivenessSchema } from '../openapi/response-schemas.js';

const startedAt = Date.now();

@ApiTags('health')
@Controller('health')
@Public('liveness and readiness probes (systemd, load balancers) carry no credentials')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(DATABASE_PING) private readonly pingDatabase: () => Promise<void>,
    @Inject(NATS_CLUSTER) private readonly nats: Pick<NatsCluster, 'isConnected'> | null,
    private readonly readiness: ReadinessRegistry,
    @Inject(PLUGIN_RUNTIME) private readonly plugins: Pick<PluginRuntime, 'health'>,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LivenessSchema })
  live(): { status: 'ok'; uptimeMs: number } {
    return { status: 'ok', uptimeMs: Date.now() - startedAt };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: the database answers, NATS is connected in cluster mode, and no dependency a plugin service reports is down (503 with details otherwise)',
    description: 'Plugin services report their dependencies (e.g. `chain-anchor:network:local`, each RPC URL a component): `ok` is up, `degraded` (some endpoint failing, another one serving) keeps 200 with status `degraded`, `down` answers 503.',
  })
  @ApiErrors({ 503: 'a dependency is not ready (code NOT_READY; details: status, info, error and details of each check), or the daemon is shutting down' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(() => this.pingDatabase())
          .withTimeout(3000),
      ...(this.nats ? [() => this.indicators.check('nats').attempt(async () => {
        if (!this.nats!.isConnected()) throw new Error('NATS disconnected; reconnecting');
      })] : []),
      // chain RPCs and other optional dependencies, each its own indicator (see ReadinessRegistry)
      ...this.readiness.entries().map(([name, { check, timeoutMs }]) => () => this.indicators.check(name).attempt(async () => { await check(); }).withTimeout(timeoutMs)),
      // what the plugin services in this daemon report through ctx.health: snapshots, no call out at probe time
      ...this.plugins.health().map((h) => () => {
        const session = this.indicators.check(`${pluginShortName(h.plugin)}:${h.name}`);
        const data = { state: h.report.state, ...(h.report.detail ? { detail: h.report.detail } : {}), ...(h.report.components ? { components: h.report.components } : {}), service: h.service, since: h.since };
        return h.report.state === 'ok' ? session.up(data) : h.report.state === 'degraded' ? session.degraded(data) : session.down(data);
      }),
    ]);
  }
}
