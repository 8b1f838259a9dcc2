import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { Engine, NodeTypeInfo } from '@anchorflow/engine';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { ListNodeTypesQuery } from './list-node-types.query.js';

@QueryHandler(ListNodeTypesQuery)
export class ListNodeTypesHandler implements IQueryHandler<ListNodeTypesQuery> {
  private cached?: { items: NodeTypeInfo[] };

  constructor(@Inject(ENGINE) private readonly engine: Pick<Engine, 'catalog'>) {}

  async execute(): Promise<{ items: NodeTypeInfo[] }> {
    // the catalog is fixed once plugins are loaded
    return (this.cached ??= { items: this.engine.catalog.list() });
  }
}
