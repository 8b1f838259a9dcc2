import type { PluginDefinition } from '@anchorflow/plugin-sdk';
import corePlugin from '@anchorflow/plugin-core';
import paymentObserverPlugin from '@anchorflow/plugin-payment-observer';

/** Plugins loaded into this daemon (the plugin loader will extend this list from configuration). */
export function builtInPlugins(): PluginDefinition[] {
  return [corePlugin, paymentObserverPlugin];
}
