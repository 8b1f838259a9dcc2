import { Module } from '@nestjs/common';
import { ObserversController } from './observers.controller.js';

/** `GET /api/v1/observers…`: the read side of the payment observer plugin (see the controller). */
@Module({ controllers: [ObserversController] })
export class ObserversModule {}
