import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const HEX32 = { type: 'string', pattern: '^0x[0-9a-f]{64}$' } as const;

export class ProofPathStepSchema {
  @ApiProperty({ enum: ['left', 'right'], description: 'where the sibling sorts (informative: inner nodes order their children)' }) side!: 'left' | 'right';
  @ApiProperty(HEX32) hash!: string;
}

export class ProofAnchorSchema {
  @ApiProperty({ enum: ['evm', 'casper'] }) chain!: 'evm' | 'casper';
  @ApiProperty({ description: "the issuer's name for the network" }) network!: string;
  @ApiPropertyOptional({ description: 'EVM chain id' }) chainId?: number;
  @ApiProperty() txHash!: string;
  @ApiProperty() block!: number;
  @ApiProperty() blockHash!: string;
  @ApiProperty({ description: 'registry address (EVM) or contract hash (Casper)' }) contract!: string;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
}

/** The proof file (docs/architecture.md §9): self-contained, verifiable offline and online. */
export class ProofFileSchema {
  @ApiProperty({ enum: [1] }) v!: 1;
  @ApiProperty({ enum: ['sha256'] }) hash!: 'sha256';
  @ApiProperty(HEX32) leaf!: string;
  @ApiProperty({ type: [ProofPathStepSchema] }) path!: ProofPathStepSchema[];
  @ApiProperty(HEX32) root!: string;
  @ApiProperty({ type: ProofAnchorSchema }) anchor!: ProofAnchorSchema;
}

export class VerdictCheckSchema {
  @ApiProperty({ example: 'path leads to root' }) name!: string;
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional() detail?: string;
}

/** The verdict of POST /api/v1/proofs/verify (the same as the chain.verify node's output). */
export class VerdictSchema {
  @ApiProperty() valid!: boolean;
  @ApiProperty({ type: [VerdictCheckSchema] }) checks!: VerdictCheckSchema[];
}
