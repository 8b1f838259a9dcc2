import { Module } from '@nestjs/common';
import { PluginsController } from './plugins.controller.js';
import { ListPluginsHandler } from './queries/list-plugins/list-plugins.handler.js';

/** `GET /api/v1/plugins`. Loading happens in EngineModule (DAEMON_PLUGINS), before the engine is built. */
@Module({ controllers: [PluginsController], providers: [ListPluginsHandler] })
export class PluginsModule {}
