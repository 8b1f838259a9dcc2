import { Query } from '@nestjs/cqrs';
import type { PluginsView } from './list-plugins.handler.js';

export class ListPluginsQuery extends Query<PluginsView> {}
