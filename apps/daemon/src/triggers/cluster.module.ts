import { Module } from '@nestjs/common';
import { TriggersModule } from './triggers.module.js';
import { ClusterWorkflowSync } from './cluster-workflow-sync.js';

/** What several daemons sharing one database and NATS keep in step (inert without NATS). */
@Module({ imports: [TriggersModule], providers: [ClusterWorkflowSync] })
export class ClusterModule {}
