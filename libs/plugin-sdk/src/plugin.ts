import type { NodeDefinition } from './node.js';
import type { ConfigClass, ServiceDefinition } from './service.js';
import type { TriggerNodeDefinition } from './trigger.js';

/** The `anchorflow.sdk` value in a plugin's package.json this SDK understands. */
export const PLUGIN_SDK_VERSION = 1;

export interface CredentialTypeDefinition {
  /** e.g. `smtp`, `evm-signer` */
  type: string;
  title: string;
  /** names of the fields that hold secrets (redacted everywhere) */
  secretFields: string[];
}

export interface PluginDefinition {
  name: string;
  version: string;
  nodes: NodeDefinition[];
  /** long-lived trigger sources (defineTrigger); they are node types too */
  triggers?: TriggerNodeDefinition[];
  /** long-lived background work owned by the plugin (defineService) */
  services?: ServiceDefinition[];
  credentials?: CredentialTypeDefinition[];
  /**
   * class-validator DTO of the plugin's config section (`pluginConfig.<shortName>` in the daemon's
   * config); checked at start-up, a bad section is named and the plugin is not loaded.
   */
  config?: ConfigClass;
}

export function definePlugin(def: PluginDefinition): PluginDefinition {
  if (!def.name || typeof def.name !== 'string') throw new TypeError('definePlugin: name is required');
  const nodes = [...def.nodes, ...(def.triggers ?? [])];
  const seen = new Set<string>();
  for (const n of nodes) {
    if (seen.has(n.type)) throw new TypeError(`plugin ${def.name}: node type ${n.type} is defined twice`);
    seen.add(n.type);
  }
  const services = new Set<string>();
  for (const s of def.services ?? []) {
    if (!s || typeof s.start !== 'function') throw new TypeError(`plugin ${def.name}: services must be made with defineService`);
    if (services.has(s.name)) throw new TypeError(`plugin ${def.name}: service ${s.name} is defined twice`);
    services.add(s.name);
  }
  if (def.config !== undefined && typeof def.config !== 'function') throw new TypeError(`plugin ${def.name}: config must be a DTO class`);
  return Object.freeze({ ...def, nodes });
}
