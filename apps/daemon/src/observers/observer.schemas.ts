import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JSON_OBJECT } from '../openapi/response-schemas.js';

/** A payment observer: its registration and the follower's progress (null before its first step). */
export class ObserverSchema {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'true while the workflow is active and the observer is followed; false while it is deactivated (it follows on from its cursor when activated again)' }) active!: boolean;
  @ApiPropertyOptional({ ...JSON_OBJECT, nullable: true, description: 'head, ingested block, blocks behind, events/s, RPC URL in use, last error' }) status?: object | null;
}

export class ObserverListSchema {
  @ApiProperty({ type: [ObserverSchema] }) observers!: ObserverSchema[];
}

export class ObserverEventsSchema {
  @ApiProperty({ type: 'array', items: JSON_OBJECT, description: 'events, retractions and alerts in log order' }) entries!: object[];
  @ApiProperty({ description: 'pass back as cursor for the next page' }) nextCursor!: number;
}

export class ObserverStateSchema {
  @ApiProperty({ description: 'sha256 of the canonical JSON of the state: identical on every replay' }) hash!: string;
  @ApiProperty({ ...JSON_OBJECT, description: 'per-flow state and per-address totals' }) state!: object;
}
