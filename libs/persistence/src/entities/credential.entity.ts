import { Entity, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';

/**
 * A stored credential (issue 4; @anchorflow/security `Vault`). Metadata in clear columns; `data` only as
 * AES-256-GCM ciphertext under the master key `kid`, bound to (id, type) as additional authenticated
 * data. Read and written with raw SQL (apps/daemon/src/credentials/credential.store.ts).
 */
@Entity({ tableName: 'credential' })
@Unique({ name: 'credential_name_uq', properties: ['name'] })
export class CredentialEntity {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  /** what the data is for, e.g. `smtp`, `evm.signer`; part of the ciphertext's AAD */
  @Property({ type: 'text' })
  type!: string;

  /** how workflows refer to it (node params name a credential); unique */
  @Property({ type: 'text' })
  name!: string;

  /** master key id (first 8 hex of its SHA-256) */
  @Property({ type: 'text' })
  kid!: string;

  /** base64 */
  @Property({ type: 'text' })
  iv!: string;

  /** base64 GCM tag */
  @Property({ type: 'text' })
  tag!: string;

  /** base64 */
  @Property({ type: 'text' })
  ciphertext!: string;

  /** who may use it: `{ workflows?, nodeTypes?, allowHosts? }` (issue 17); `{}` = anyone */
  @Property({ type: 'json', columnType: 'jsonb', defaultRaw: `'{}'` })
  scopes: Record<string, unknown> & Opt = {};

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();
}
