import { type NodeDefinition, isTriggerNode, paramsJsonSchema } from '@anchorflow/plugin-sdk';

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
}

/** The node types this engine can validate and run. */
export class NodeCatalog {
  private readonly defs = new Map<string, { def: NodeDefinition; plugin: string }>();

  register(def: NodeDefinition, plugin: string): void {
    const existing = this.defs.get(def.type);
    if (existing) throw new Error(`node type ${def.type} from ${plugin} is already registered by ${existing.plugin}`);
    this.defs.set(def.type, { def, plugin });
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
      const { def, plugin } = this.defs.get(type)!;
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
        paramsSchema: paramsJsonSchema(def.params),
      };
    });
  }
}
