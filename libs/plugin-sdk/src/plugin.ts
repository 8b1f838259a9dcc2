import type { CredentialTypeDefinition } from './credentials.js';
import type { NodeDefinition } from './node.js';
import type { TriggerNodeDefinition } from './trigger.js';

/** The `anchorflow.sdk` value in a plugin's package.json this SDK understands. */
export const PLUGIN_SDK_VERSION = 1;


export interface PluginDefinition {
  name: string;
  version: string;
  nodes: NodeDefinition[];
  /** long-lived trigger sources (defineTrigger); they are node types too */
  triggers?: TriggerNodeDefinition[];
  credentials?: CredentialTypeDefinition[];
}

export function definePlugin(def: PluginDefinition): PluginDefinition {
  if (!def.name || typeof def.name !== 'string') throw new TypeError('definePlugin: name is required');
  const nodes = [...def.nodes, ...(def.triggers ?? [])];
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.type)) throw new TypeError(`plugin ${def.name}: node type ${n.type} is defined twice`);
    seen.add(n.type);
  }
  const types = new Set<string>();
  for (const c of def.credentials ?? []) {
    if (types.has(c.type)) throw new TypeError(`plugin ${def.name}: credential type ${c.type} is defined twice`);
    types.add(c.type);
    for (const f of c.secretFields) if (c.fields && !(f in c.fields)) throw new TypeError(`plugin ${def.name}: credential type ${c.type} lists secret field ${f} that is not among its fields`);
  }
  return Object.freeze({ ...def, nodes });
}
