import { EngineError, type NodeCatalog, type ValidationProblem, type WorkflowDefinition } from '@anchorflow/engine';
import { paramsJsonSchema, staticCredentialRefs } from '@anchorflow/plugin-sdk';
import type { CredentialScopes } from '../credentials/credential.store.js';
import { outOfScope } from '../credentials/credentials.js';

/** What the check needs from the vault: a credential's type and scopes by name or id, without decrypting it. */
export interface CredentialLookup {
  describe(ref: string): Promise<{ type: string; name: string; scopes?: CredentialScopes } | undefined>;
}

/**
 * Save-time check of credential references: a node param marked `@CredentialRef(type)` (the
 * `x-credential-type` keyword of its params schema) that names an existing credential of another type
 * is refused, naming the node and the param. A name that does not exist (yet) is accepted: it may be
 * created before the first run, which then fails with CREDENTIAL_NOT_FOUND if it still is missing.
 * Expressions are only known at run time, where the node checks the data's shape itself.
 *
 * Scopes (issue 17): a reference to a credential whose scopes exclude the node's type or the workflow
 * (`workflowId`: undefined for a workflow not created yet, which no workflow scope lists) is refused
 * with CREDENTIAL_OUT_OF_SCOPE naming the node and the credential. The run-time check in the vault
 * stays the guarantee (expressions, scopes changed after saving).
 */
export class CredentialRefsCheck {
  constructor(
    private readonly catalog: Pick<NodeCatalog, 'get' | 'isRemote' | 'remoteDescriptor'>,
    private readonly credentials: CredentialLookup,
  ) {}

  private schemaOf(type: string): object | undefined {
    if (this.catalog.isRemote(type)) return this.catalog.remoteDescriptor(type)?.paramsSchema;
    const def = this.catalog.get(type);
    return def ? paramsJsonSchema(def.params) : undefined;
  }

  async problems(definition: WorkflowDefinition, workflowId?: string): Promise<ValidationProblem[]> {
    const problems: ValidationProblem[] = [];
    const known = new Map<string, Promise<{ type: string; name: string; scopes?: CredentialScopes } | undefined>>();
    for (const [i, node] of definition.nodes.entries()) {
      const schema = this.schemaOf(node.type);
      if (!schema) continue;
      for (const { param, ref, expectedType } of staticCredentialRefs(schema, node.params)) {
        let found = known.get(ref);
        if (!found) known.set(ref, (found = this.credentials.describe(ref)));
        const credential = await found;
        const refused = credential?.scopes ? outOfScope(credential.scopes, { workflowId, nodeType: node.type }) : undefined;
        if (credential && refused) {
          problems.push({
            code: 'CREDENTIAL_OUT_OF_SCOPE',
            path: `$.nodes[${i}].params.${param}`,
            nodeId: node.id,
            message: `node "${node.id}" param ${param}: credential ${JSON.stringify(credential.name)} may not be used here: ${refused}`,
          });
        }
        if (credential && credential.type !== expectedType) {
          problems.push({
            code: 'INVALID_PARAMS',
            path: `$.nodes[${i}].params.${param}`,
            nodeId: node.id,
            message: `node "${node.id}" param ${param}: credential ${JSON.stringify(credential.name)} is of type ${credential.type}, but ${node.type} needs a ${expectedType} credential`,
          });
        }
      }
    }
    return problems;
  }
}

/** Throws VALIDATION_FAILED (400) listing every wrong-type reference. */
export async function assertCredentialRefs(check: CredentialRefsCheck | undefined, definition: WorkflowDefinition, workflowId?: string): Promise<void> {
  if (!check) return;
  const problems = await check.problems(definition, workflowId);
  if (problems.length) {
    throw new EngineError('VALIDATION_FAILED', `workflow is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ')}${problems.length > 5 ? '; …' : ''}`, problems);
  }
}
