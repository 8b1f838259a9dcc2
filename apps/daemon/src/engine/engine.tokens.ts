/** DI token of the framework-free Engine (built in EngineModule's useFactory). */
export const ENGINE = Symbol('ENGINE');
/** DI token of the plugins loaded into this daemon (PluginDefinition[]). */
export const PLUGINS = Symbol('PLUGINS');
