import { Module } from '@nestjs/common';
import { NodeTypesController } from './node-types.controller.js';
import { ListNodeTypesHandler } from './queries/list-node-types/list-node-types.handler.js';

@Module({ controllers: [NodeTypesController], providers: [ListNodeTypesHandler] })
export class NodeTypesModule {}
