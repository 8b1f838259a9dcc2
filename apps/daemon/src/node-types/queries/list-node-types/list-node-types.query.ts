import { Query } from '@nestjs/cqrs';
import type { NodeTypeInfo } from '@anchorflow/engine';

export class ListNodeTypesQuery extends Query<{ items: NodeTypeInfo[] }> {}
