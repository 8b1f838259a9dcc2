import { type CredentialTypeDefinition, type NodeContext, NodeError, validateCredentialData } from '@anchorflow/plugin-sdk';

/**
 * Resolves a credential and checks its data against the type this node expects. A credential stored
 * before its type was declared, or one of another type given by an expression, fails here with the
 * field names only (never a value).
 */
export async function loadCredential<T extends object>(ctx: NodeContext<object>, param: string, ref: string, type: CredentialTypeDefinition): Promise<T> {
  const data = await ctx.credentials.get<T>(ref);
  const problems = validateCredentialData(type, data);
  if (problems.length) {
    throw new NodeError(
      `credential ${JSON.stringify(ref)} (param ${param}) is not a valid ${type.type} credential: ${problems.map((p) => p.message).join('; ')}`,
      'CREDENTIAL_INVALID',
      { param, credential: ref, expectedType: type.type, problems: problems.map((p) => p.path) },
    );
  }
  return data;
}
