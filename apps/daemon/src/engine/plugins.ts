import type { PluginDefinition } from '@anchorflow/plugin-sdk';
import corePlugin from '@anchorflow/plugin-core';
import notificationsPlugin from '@anchorflow/plugin-notifications';

/** Plugins shipped with the daemon (the plugin loader adds the configured ones). */
export function builtInPlugins(): PluginDefinition[] {
  return [corePlugin, notificationsPlugin];
}
