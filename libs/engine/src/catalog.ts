import { type NodeDefinition, isTriggerNode, paramsJsonSchema } from '@anchorflow/plugin-sdk';
import { type RemoteNodeTypeDescriptor, remoteNodeDefinition } from './remote/remote-node-type.js';

export * from './remote/remote-node-type.js';

/** What the catalog endpoint shows for each node type. */
export interface NodeTypeInfo {
  type: string;
  version: number;
  title: string;
  description?: string;
  category: string;
  plugin: string;
  inputs: string[];
  /** static ports, or `dynamic` when they depend on params (see description) */
  outputs: string[] | 'dynamic';
  trigger: boolean;
  pure: boolean;
  paramsSchema: object;
  /** served by plugin workers over NATS rather than by this process */
  remote?: boolean;
  /** `cluster`: a trigger whose source needs NATS (activation without it is refused) */
  requires?: 'cluster';
}

/** The node types this engine can validate and run. */
export class NodeCatalog {
  private readonly defs = new Map<string, { def: NodeDefinition; plugin: string; remote?: RemoteNodeTypeDescriptor }>();

  register(def: NodeDefinition, plugin: string): void {
    const existing = this.defs.get(def.type);
    // a local implementation replaces a remote registration (local types are never shadowed)
    if (existing && !existing.remote) throw new Error(`node type ${def.type} from ${plugin} is already registered by ${existing.plugin}`);
    this.defs.set(def.type, { def, plugin });
  }

  /**
   * Registers (or refreshes) a node type announced by a plugin worker. A type this process provides
   * itself is never shadowed (`local`). Workflows validate against the announced params schema.
   */
  registerRemote(descriptor: RemoteNodeTypeDescriptor, plugin: string): 'added' | 'updated' | 'unchanged' | 'local' {
    const existing = this.defs.get(descriptor.type);
    if (existing && !existing.remote) return 'local';
    if (existing && JSON.stringify(existing.remote) === JSON.stringify(descriptor) && existing.plugin === plugin) return 'unchanged';
    this.defs.set(descriptor.type, { def: remoteNodeDefinition(descriptor), plugin, remote: descriptor });
    return existing ? 'updated' : 'added';
  }

  /** true when the type is served by plugin workers (registered with registerRemote) */
  isRemote(type: string): boolean {
    return this.defs.get(type)?.remote !== undefined;
  }

  /** the announced descriptor of a remote type */
  remoteDescriptor(type: string): RemoteNodeTypeDescriptor | undefined {
    return this.defs.get(type)?.remote;
  }

  get(type: string): NodeDefinition | undefined {
    return this.defs.get(type)?.def;
  }

  pluginOf(type: string): string | undefined {
    return this.defs.get(type)?.plugin;
  }

  types(): string[] {
    return [...this.defs.keys()].sort();
  }

  list(): NodeTypeInfo[] {
    return this.types().map((type) => {
      const { def, plugin, remote } = this.defs.get(type)!;
      return {
        type,
        version: def.version,
        title: def.title,
        ...(def.description ? { description: def.description } : {}),
        category: def.category,
        plugin,
        inputs: def.inputs,
        outputs: typeof def.outputs === 'function' ? 'dynamic' : def.outputs,
        trigger: isTriggerNode(def) || def.category === 'trigger',
        pure: def.pure === true,
        paramsSchema: remote ? remote.paramsSchema : paramsJsonSchema(def.params),
        ...(remote ? { remote: true } : {}),
        ...(isTriggerNode(def) && def.trigger.requires === 'cluster' ? { requires: 'cluster' as const } : {}),
      };
    });
  }
}
