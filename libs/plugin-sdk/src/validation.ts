/**
 * The validation vocabulary for params DTOs, re-exported so a plugin uses the very same
 * class-validator / class-transformer / class-validator-jsonschema instances as the SDK (their
 * decorator metadata is per module instance) and depends on @anchorflow/plugin-sdk alone.
 */
export * from 'class-validator';
export { Type, Transform, Expose, Exclude } from 'class-transformer';
export { JSONSchema } from 'class-validator-jsonschema';
