import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ProofFileSchema, VerdictSchema } from './proof.schemas.js';
import type { Response } from 'express';
import { ChainAnchorConfigError, ProofFormatError, onlineCheckerFor, parseChainAnchorConfig, parseProof, publishedNetworks, verifyProof, type PublishedNetworks, type Verdict } from '@anchorflow/plugin-chain-anchor';
import { RequirePermission } from '../auth/access.decorators.js';
import { ApiError } from '../common/api-error.js';
import { APP_CONFIG } from '../config/config.token.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { ParseIdPipe } from '../common/validation.js';
import type { ExecutionDto } from '../executions/execution.presenter.js';
import { GetExecutionQuery } from '../executions/queries/get-execution/get-execution.query.js';
import { VerifyProofDto } from './verify-proof.dto.js';

/**
 * Proofs of chain.anchor nodes (ARCHITECTURE §9). The daemon stays generic: it reads a node's output
 * and calls the chain-anchor plugin's exported verifier, the same code as the chain.verify node.
 */
@ApiTags('proofs')
@Controller('proofs')
export class ProofsController {
  private readonly networks: PublishedNetworks;

  constructor(
    private readonly queries: QueryBus,
    @Inject(APP_CONFIG) config: Pick<AnchorflowConfig, 'pluginConfig'>,
  ) {
    let networks: PublishedNetworks = {};
    try {
      networks = publishedNetworks(parseChainAnchorConfig(config.pluginConfig?.['chain-anchor']));
    } catch (err) {
      // the plugin loader already reported the bad section; online checks then name the unknown network
      if (!(err instanceof ChainAnchorConfigError)) throw err;
    }
    this.networks = networks;
  }

  @Get(':executionId/:nodeId')
  @RequirePermission('proofs:read')
  @ApiOperation({ summary: 'Download the proof file a chain.anchor node produced' })
  @ApiOkResponse({ type: ProofFileSchema })
  async download(@Param('executionId', new ParseIdPipe('execution')) executionId: string, @Param('nodeId') nodeId: string, @Res() res: Response): Promise<void> {
    const execution: ExecutionDto = await this.queries.execute(new GetExecutionQuery(executionId));
    const run = execution.nodeRuns.find((n) => n.nodeId === nodeId);
    if (!run) throw new ApiError(404, 'NOT_FOUND', `execution ${executionId} has no node "${nodeId}"`);
    const proof = (run.output as { main?: { proof?: unknown } } | undefined)?.main?.proof;
    if (proof === undefined) throw new ApiError(404, 'PROOF_NOT_FOUND', `node "${nodeId}" of execution ${executionId} has no proof (status ${run.status}); proofs come from chain.anchor nodes once anchored`);
    try {
      parseProof(proof);
    } catch (err) {
      throw new ApiError(404, 'PROOF_NOT_FOUND', `the output of node "${nodeId}" is not a proof: ${(err as Error).message}`);
    }
    res
      .status(200)
      .set('content-type', 'application/json; charset=utf-8')
      .set('content-disposition', `attachment; filename="proof-${executionId}-${nodeId.replace(/[^\w.-]/g, '_')}.json"`)
      .send(JSON.stringify(proof, null, 2) + '\n');
  }

  @Post('verify')
  @HttpCode(200)
  @RequirePermission('proofs:read')
  @ApiOperation({ summary: 'Verify a proof: {proof, data?, online?} → {valid, checks:[{name, ok, detail}]} (the chain.verify verdict)' })
  @ApiOkResponse({ type: VerdictSchema })
  async verify(@Body() body: VerifyProofDto): Promise<Verdict> {
    try {
      return await verifyProof(body.proof, {
        ...(body.data !== undefined ? { data: body.data, hasData: true } : {}),
        ...(body.online !== false ? { online: onlineCheckerFor(this.networks) } : {}),
      });
    } catch (err) {
      if (err instanceof ProofFormatError) throw new ApiError(400, 'PROOF_MALFORMED', err.message, err.problems);
      throw err;
    }
  }
}
