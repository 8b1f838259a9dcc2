import { Module } from '@nestjs/common';
import { ProofsController } from './proofs.controller.js';

/** GET /api/v1/proofs/:executionId/:nodeId and POST /api/v1/proofs/verify (chain-anchor proofs). */
@Module({ controllers: [ProofsController] })
export class ProofsModule {}
