import { Module } from '@nestjs/common';
import { TriggersModule } from '../triggers/triggers.module.js';
import { EditorGateway } from './editor.gateway.js';

/** The editor's socket.io namespace `/editor` (live executions, collaborative patches, presence). */
@Module({ imports: [TriggersModule], providers: [EditorGateway], exports: [EditorGateway] })
export class EditorModule {}
