import { IsInt, JSONSchema, Max, Min } from '@anchorflow/plugin-sdk';

/**
 * The plugin's config section (`pluginConfig.example` in the daemon's config), checked when the plugin
 * loads: a bad value fails the plugin with the key named (GET /api/v1/plugins, code INVALID_CONFIG).
 * Property initialisers are the defaults.
 */
export class ExampleConfig {
  @JSONSchema({ description: 'How often the ticker service ticks (ms).' })
  @IsInt()
  @Min(50)
  @Max(3_600_000)
  tickIntervalMs: number = 5_000;
}
