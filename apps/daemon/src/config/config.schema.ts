import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsObject, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateNested } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class HttpConfig {
  @IsString() @MinLength(1)
  host!: string;

  @IsInt() @Min(0) @Max(65535)
  port!: number;

  /** body-parser size: a byte count or a number with b/kb/mb/gb */
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, { message: 'bodyLimit must look like 512kb, 1mb or a byte count' })
  bodyLimit!: string;

  @IsInt() @Min(0) @Max(3_600_000)
  maxWaitMs!: number;

  /** deepest object/array nesting accepted in a JSON body */
  @IsInt() @Min(1) @Max(10_000)
  maxJsonDepth!: number;
}

export class DatabaseConfig {
  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'url must be a postgres:// or postgresql:// URL' })
  url?: string;

  @IsOptional() @IsInt() @Min(0) @Max(65535)
  embeddedPort?: number;
}

export class NatsConfig {
  @IsOptional() @Matches(/^(nats|tls|wss?):\/\//, { message: 'url must be a nats://, tls:// or ws(s):// URL' })
  url?: string;
}

export class EngineConfig {
  @IsInt() @Min(1)
  maxConcurrentNodes!: number;

  @IsInt() @Min(1)
  maxConcurrentNodesPerExecution!: number;

  @IsInt() @Min(1)
  expressionTimeoutMs!: number;

  @IsInt() @Min(1)
  maxNodes!: number;

  @IsInt() @Min(0)
  wakeUpHorizonMs!: number;

  @IsInt() @Min(10)
  pollIntervalMs!: number;
}

export class HooksConfig {
  @IsInt() @Min(0)
  responseTimeoutMs!: number;
}

export class LogConfig {
  @IsIn(LOG_LEVELS)
  level!: LogLevel;

  @IsBoolean()
  pretty!: boolean;

  @IsBoolean()
  requests!: boolean;
}

/** The daemon's whole configuration, validated at start-up (see config/default.yaml). */
export class AnchorflowConfig {
  @IsObject() @ValidateNested() @Type(() => HttpConfig)
  http!: HttpConfig;

  @IsString() @MinLength(1)
  dataDir!: string;

  @IsObject() @ValidateNested() @Type(() => DatabaseConfig)
  database!: DatabaseConfig;

  @IsObject() @ValidateNested() @Type(() => NatsConfig)
  nats!: NatsConfig;

  @IsObject() @ValidateNested() @Type(() => EngineConfig)
  engine!: EngineConfig;

  @IsObject() @ValidateNested() @Type(() => HooksConfig)
  hooks!: HooksConfig;

  @IsObject() @ValidateNested() @Type(() => LogConfig)
  log!: LogConfig;
}

/** Every known key with the type env strings are coerced to. Env names derive from these paths. */
export const CONFIG_KEYS: ReadonlyArray<{ path: string; type: 'string' | 'number' | 'boolean' }> = [
  { path: 'http.host', type: 'string' },
  { path: 'http.port', type: 'number' },
  { path: 'http.bodyLimit', type: 'string' },
  { path: 'http.maxWaitMs', type: 'number' },
  { path: 'http.maxJsonDepth', type: 'number' },
  { path: 'dataDir', type: 'string' },
  { path: 'database.url', type: 'string' },
  { path: 'database.embeddedPort', type: 'number' },
  { path: 'nats.url', type: 'string' },
  { path: 'engine.maxConcurrentNodes', type: 'number' },
  { path: 'engine.maxConcurrentNodesPerExecution', type: 'number' },
  { path: 'engine.expressionTimeoutMs', type: 'number' },
  { path: 'engine.maxNodes', type: 'number' },
  { path: 'engine.wakeUpHorizonMs', type: 'number' },
  { path: 'engine.pollIntervalMs', type: 'number' },
  { path: 'hooks.responseTimeoutMs', type: 'number' },
  { path: 'log.level', type: 'string' },
  { path: 'log.pretty', type: 'boolean' },
  { path: 'log.requests', type: 'boolean' },
];

/** Conventional variables (12-factor style) and the key each one sets. */
export const CONVENTIONAL_ENV: Readonly<Record<string, string>> = {
  PORT: 'http.port',
  HOST: 'http.host',
  DATABASE_URL: 'database.url',
  NATS_URL: 'nats.url',
};

/** Keys whose values are secrets: never logged as they are. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['database.url', 'nats.url']);
